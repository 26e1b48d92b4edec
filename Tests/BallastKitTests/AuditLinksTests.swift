import BallastTesting
import Foundation
import Testing

/// Issue 13 §6: one order followed through the workbook by its links alone — from the Summary to
/// the worst orders, its costs, its order row, its decision, its HTTP request and its first fill.
@Suite(.serialized) struct AuditLinksTests {
    @Test func oneOrderIsFollowedFromTheSummaryToItsDecisionRequestsFillsAndCostByLinks() async throws {
        let scenario = try await TradingScenario(approvalCap: "100000000")
        defer { scenario.stop() }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try BallastBinary.run(
            ["run", "--job", scenario.jobPath, "--out", out.path], environment: scenario.environment)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let folder = String(run.stdout.split(separator: "\n").last ?? "")
        let dump = try Openpyxl.inspect(folder + "/audit.xlsx", rowLimit: 2000)

        /// The row a link leads to, and that it is a whole-row link ("'Sheet'!A<row>").
        func follow(_ cell: WorkbookDump.CellDump?) throws -> (sheet: String, row: [WorkbookDump.CellDump]) {
            let link = try #require(cell?.link, "no link on \(String(describing: cell?.value))")
            let parts = link.split(separator: "!")
            let name = parts[0].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            let row = try #require(Int(parts[1].dropFirst()))
            let sheet = try #require(dump.sheet(name), "no sheet \(name)")
            return (name, sheet.rows[row - 1])
        }
        func column(_ sheet: String, _ header: String) throws -> Int {
            try #require(dump.sheet(sheet)?.rows[0].firstIndex { $0.value.string == header }, "\(sheet): \(header)")
        }

        // Summary → Worst orders (the sheet list links to each sheet's first cell).
        let summary = try #require(dump.sheet("Summary"))
        let listed = try #require(summary.rows.first { $0.first?.value.string == "Worst orders" })
        #expect(listed[0].link == "'Worst orders'!A1")

        // Worst orders → Order costs → Orders & Attempts → Decisions, Fills, HTTP Attempts.
        let worst = try #require(dump.sheet("Worst orders")?.rows.dropFirst().first)
        let worstOrder = try column("Worst orders", "Order (link: Order costs)")
        let orderID = try #require(worst[worstOrder].value.number)
        #expect(worst[worstOrder].type == "n", "the linked cell keeps its number")
        let costs = try follow(worst[worstOrder])
        #expect(costs.sheet == "Order costs")
        let costsOrder = try column("Order costs", "Order (link: Orders & Attempts)")
        #expect(costs.row[costsOrder].value.number == orderID)
        let decisionLink = try follow(worst[try column("Worst orders", "Decision (link: Decisions)")])
        #expect(decisionLink.sheet == "Decisions")

        let order = try follow(costs.row[costsOrder])
        #expect(order.sheet == "Orders & Attempts")
        let ordersID = try column("Orders & Attempts", "Order (link: its decision)")
        let ordersClient = try column("Orders & Attempts", "Client order id (link: its first fill)")
        #expect(order.row[ordersID].value.number == orderID)
        let clientOrderID = try #require(order.row[ordersClient].value.string)

        let decision = try follow(order.row[ordersID])
        #expect(decision.sheet == "Decisions")
        #expect(decision.row[try column("Decisions", "Client order id")].value.string == clientOrderID)
        #expect(decision.row == decisionLink.row, "the worst-orders decision link and the order's agree")

        let fill = try follow(order.row[ordersClient])
        #expect(fill.sheet == "Fills")
        #expect(fill.row[try column("Fills", "Client order id")].value.string == clientOrderID)

        // Router calibration per route: the notional-weighted estimate and realised cost agree with the
        // per-order figures on Order costs (rounded there to 2 places), weighted by filled qty × decision mid.
        let calibration = try #require(dump.sheet("Router calibration"))
        let costRows = try #require(dump.sheet("Order costs")).rows.dropFirst()
        func value(_ row: [WorkbookDump.CellDump], _ sheet: String, _ header: String) throws -> Double? {
            row[try column(sheet, header)].value.number
        }
        #expect(calibration.rows.count > 1)
        for route in calibration.rows.dropFirst() {
            let venue = route[try column("Router calibration", "Venue")].value.string
            let symbol = route[try column("Router calibration", "Symbol")].value.string
            let style = route[try column("Router calibration", "Style")].value.string
            var weight = 0.0
            var estimate = 0.0
            var realised = 0.0
            var orders = 0
            for row in costRows {
                guard row[try column("Order costs", "Venue")].value.string == venue,
                    row[try column("Order costs", "Symbol")].value.string == symbol,
                    row[try column("Order costs", "Style")].value.string == style,
                    let filled = try value(row, "Order costs", "Filled qty"), filled > 0,
                    let mid = try value(row, "Order costs", "Decision mid"),
                    let est = try value(row, "Order costs", "Router estimate (bps)"),
                    let total = try value(row, "Order costs", "Total cost vs decision (bps)")
                else { continue }
                orders += 1
                weight += filled * mid
                estimate += est * filled * mid
                realised += total * filled * mid
            }
            let header = "Router estimate (bps)"
            #expect(try value(route, "Router calibration", "Filled orders") == Double(orders))
            let recorded = try #require(try value(route, "Router calibration", header))
            #expect(abs(recorded - estimate / weight) <= 0.011, "\(venue ?? "") \(recorded) vs \(estimate / weight)")
            let outcome = try #require(
                try value(route, "Router calibration", "Realised vs decision mid (bps)"))
            #expect(abs(outcome - realised / weight) <= 0.011, "\(venue ?? "") \(outcome) vs \(realised / weight)")
        }
        #expect(calibration.charts.first?.series == 2)

        let ordersAttempt = try column("Orders & Attempts", "HTTP attempt (link: HTTP Attempts)")
        let attempt = try #require(order.row[ordersAttempt].value.number)
        let request = try follow(order.row[ordersAttempt])
        #expect(request.sheet == "HTTP Attempts")
        #expect(request.row[try column("HTTP Attempts", "HTTP attempt")].value.number == attempt)
        #expect(request.row[try column("HTTP Attempts", "Client order id")].value.string == clientOrderID)
    }
}

import BallastCore
import BallastKit
public import Foundation
import Postgres

/// Writes a replay's figures as a workbook (`replay.xlsx`), CSVs and `result.json` into one
/// folder, through the templates of `Templates/replay/` like every report.
public enum ReplayReport {
    /// The default folder: `Output/replay-<path>-seed<N>-<UTC time>`.
    public static func defaultFolder(for result: ReplayResult, at now: Date) -> URL {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        let path = result.path.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ",", with: "+")
        return URL(fileURLWithPath: "Output").appendingPathComponent(
            "replay-\(path)-seed\(result.seed)-\(formatter.string(from: now))", isDirectory: true)
    }

    /// Writes the folder (whole or not at all); `policies` gives the order of the rows.
    public static func write(_ result: ReplayResult, policies: [String], templates folder: URL, to out: URL) throws {
        let templates = try RowsReport.templates(in: folder, set: "replay")
        try RowsReport.write(rows(result, policies: policies), templates: templates, workbook: "replay.xlsx", to: out)
        try result.json().write(to: out.appendingPathComponent("result.json"), atomically: true, encoding: .utf8)
    }

    /// The rows of each sheet, as exact text.
    static func rows(_ result: ReplayResult, policies: [String]) -> [String: [[String: String?]]] {
        let names = policies.filter { result.policies[$0] != nil }
        func number(_ x: Double?) -> String? { x.map { String(format: "%.4f", $0) } }
        func fraction(_ percent: Double?) -> String? { percent.map { String(format: "%.6f", $0 / 100) } }
        var sheets: [String: [[String: String?]]] = [:]
        sheets["Policies"] = names.map { name in
            let p = result.policies[name]!
            return [
                "policy": name, "rebalances": String(p.rebalances), "orders": String(p.orders),
                "deferred": String(p.deferred), "traded_notional": p.tradedNotional.plainString,
                "slippage_bps": number(p.slippageBps), "slippage_quote": p.slippageQuote.plainString,
                "fees_quote": p.feesQuote.plainString, "shortfall_quote": p.shortfallQuote.plainString,
                "shortfall_bps": number(p.shortfallBps), "paper_shortfall_quote": number(p.paperShortfallQuote),
                "paper_shortfall_bps": number(p.paperShortfallBps), "rate_limited": String(p.rateLimited),
                "bans": String(p.bans), "duplicates": String(p.duplicates), "max_drift": fraction(p.maxDriftPercent),
                "mean_drift": fraction(p.meanDriftPercent), "tracking_error": fraction(p.trackingErrorPercent),
                "mean_band": fraction(p.meanBandPercent),
            ]
        }
        var drift: [[String: String?]] = []
        let checks = names.map { result.policies[$0]!.drift.count }.max() ?? 0
        for i in 0..<checks {
            var row: [String: String?] = [:]
            for name in names {
                let points = result.policies[name]!.drift
                guard i < points.count else { continue }
                row["time"] = Timestamp.iso8601(points[i].time)
                let start = result.policies[names[0]]!.drift.first?.time ?? points[i].time
                row["hours"] = String(format: "%.4f", points[i].time.timeIntervalSince(start) / 3600)
                row[name] = fraction(points[i].maxPercent)
            }
            drift.append(row)
        }
        sheets["Drift"] = drift
        sheets["Router estimates"] = names.flatMap { name in
            result.policies[name]!.styles.sorted { $0.key < $1.key }.map { style, line -> [String: String?] in
                [
                    "policy": name, "style": style, "orders": String(line.orders),
                    "notional": line.notional.plainString,
                    "estimate_bps": number(line.estimateBps), "realised_bps": number(line.realisedBps),
                ]
            }
        }
        sheets["Orders"] = names.flatMap { name in
            result.policies[name]!.orderLines.map { line -> [String: String?] in
                [
                    "policy": name, "venue": line.venue, "accepted_at": Timestamp.iso8601(line.acceptedAt),
                    "client_order_id": line.clientOrderId, "parent": line.parent.map(String.init),
                    "symbol": line.symbol, "side": line.side, "style": line.style, "type": line.type,
                    "status": line.status, "price": line.price.plainString, "quantity": line.quantity.plainString,
                    "executed": line.executed.plainString, "arrival_mid": line.arrivalMid.plainString,
                ]
            }
        }
        return sheets
    }
}

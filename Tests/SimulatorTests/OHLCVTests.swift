import BallastCore
import Foundation
import Testing

@testable import Simulator

/// OHLCV files as exchanges and pandas write them, and the path the simulator draws through them.
@Suite struct OHLCVTests {
    static let march1 = 1_709_251_200.0  // 2024-03-01T00:00:00Z

    @Test(arguments: [
        "2024-03-01", "2024-03-01T00:00:00Z", "2024-03-01 00:00", "2024-03-01T00:00:00.000",
        "2024-03-01 02:00:00+02:00", "2024-02-29T19:30:00-0430", "2024-03-01T05:00:00+05", "1709251200000",
        "1709251200", "1709251200000000",
    ])
    func everyTimestampFormReadsAsTheSameInstant(text: String) {
        #expect(OHLCVTimestamp.parse(text[...]) == Self.march1)
    }

    @Test func fractionalSecondsAndNonsenseTimestamps() {
        #expect(OHLCVTimestamp.parse("2024-03-01T00:00:01.250Z") == Self.march1 + 1.25)
        for bad in ["x", "2024-13-01", "2024-02-30", "2024-03-01T25:00", "2024-03-01T00:00+99:00", "12:00", ""] {
            #expect(OHLCVTimestamp.parse(bad[...]) == nil, "\(bad)")
        }
    }

    @Test func headersAreFoundByNameInAnyCaseAndABlankFirstHeaderIsTheTimestamp() throws {
        let csv = """
            ,Close,OPEN,High,low,Volume,trades
            2024-03-01 00:00:00,101,100,102,99,5.5,17
            2024-03-01 01:00:00,103,101,104,100,6,20
            """
        let series = try OHLCVSeries(csv: csv, source: "pandas.csv")
        #expect(
            series.bars[0]
                == OHLCVBar(
                    time: Date(timeIntervalSince1970: Self.march1), open: 100, high: 102, low: 99, close: 101,
                    volume: 5.5))
        #expect(series.interval == 3600)
        let named = try OHLCVSeries(
            csv: "Timestamp,Open,High,Low,Close,Volume\r\n1709251200000,1,2,1,2,3\r\n1709251260000,2,2,1,1,4\r\n",
            source: "named.csv")
        #expect(named.bars.map(\.close) == [2, 1] && named.interval == 60)
    }

    @Test func aFileWithoutAHeaderIsReadInBinanceKlineOrder() throws {
        let csv = """
            1709251200000,100.0,101.0,99.0,100.5,12.5,1709251259999,1250,10,6,600,0
            1709251260000,100.5,100.9,100.1,100.2,8.0,1709251319999,800,8,4,400,0
            """
        let series = try OHLCVSeries(csv: csv, source: "BTCUSDT-1m.csv")
        #expect(series.bars.map(\.volume) == [12.5, 8.0])
        #expect(series.bars[1].time == Date(timeIntervalSince1970: Self.march1 + 60))
    }

    @Test func theIntervalIsTheMostCommonDifferenceAndGapsHoldTheLastClose() throws {
        let csv = """
            timestamp,open,high,low,close,volume
            2024-03-01T00:00:00Z,100,101,99,100,10
            2024-03-01T01:00:00Z,100,102,99,101,10
            2024-03-01T02:00:00Z,101,103,100,102,10
            2024-03-01T06:00:00Z,110,111,109,110,10
            2024-03-01T07:00:00Z,110,111,109,111,10
            """
        let series = try OHLCVSeries(csv: csv, source: "gappy.csv")
        #expect(series.interval == 3600)
        var path = OHLCVPath(series: series, seed: 1, step: 60, fallbackVolatility: 0.03)
        let inGap = path.advance(to: Date(timeIntervalSince1970: Self.march1 + 4 * 3600))
        #expect(inGap.point.mid == 102 && inGap.bar == nil)
        let after = path.advance(to: Date(timeIntervalSince1970: Self.march1 + 6 * 3600))
        #expect(after.point.mid == 110 && after.bar?.index == 3)
        let daily = try OHLCVSeries(
            csv: "date,open,high,low,close,volume\n2024-03-01,1,1,1,1,1\n2024-03-02,1,1,1,1,1\n2024-03-04,1,1,1,1,1\n",
            source: "daily.csv")
        #expect(daily.interval == 86_400)
    }

    @Test(arguments: [(3600.0, 60.0), (86_400, 3600), (300, 1)])
    func theIntraBarPathTouchesHighAndLowAndEndsAtTheClose(interval: Double, step: Double) throws {
        let bars = [
            "\(Self.march1),100,110,95,105,10", "\(Self.march1 + interval),105,106,104,105,10",
        ]
        let series = try OHLCVSeries(csv: bars.joined(separator: "\n"), source: "bar.csv")
        for seed in UInt64(1)...5 {
            var path = OHLCVPath(series: series, seed: seed, step: step, fallbackVolatility: 0.03)
            let mids = (0..<Int(interval / step)).map { k in
                path.advance(to: Date(timeIntervalSince1970: Self.march1 + Double(k) * step)).point.mid
            }
            #expect(mids.first == 100 && mids.last == 105)
            #expect(mids.max() == 110 && mids.min() == 95)
            var again = OHLCVPath(series: series, seed: seed, step: step, fallbackVolatility: 0.03)
            let repeated = (0..<Int(interval / step)).map { k in
                again.advance(to: Date(timeIntervalSince1970: Self.march1 + Double(k) * step)).point.mid
            }
            #expect(repeated.map(\.bitPattern) == mids.map(\.bitPattern))
        }
    }

    @Test func flowOnAnOHLCVPathAddsUpToTheBarVolume() throws {
        let model = MarketModel(
            symbol: SymbolConfig.demo[0], venue: VenueConfig(name: "t"), dailyVolatility: 0.03, pathDailyVolume: nil)
        var flow = OrderFlow(seed: 4)
        var total = 0.0
        var buys = 0.0
        for step in 0..<60 {
            let bar = BarProgress(index: 0, volume: 42, volumeFactor: 1, step: step, steps: 60)
            for (side, size) in flow.draw(seconds: 60, intensity: 2, buyShare: 0.8, model: model, bar: bar) {
                total += size
                if side == .buy { buys += size }
            }
        }
        #expect(abs(total - 42) < 1e-9)
        #expect(buys > total / 2)
    }

    static let header = "timestamp,open,high,low,close,volume\n"
    static let row = "2024-03-01,100,102,99,101,1\n"

    @Test(arguments: [
        (header + row + "2024-03-02,100,99,101,100,1\n", "prices.csv:3: high 99 is below low 101"),
        (header + "x,100,102,99,101,1\n", "prices.csv:2: cannot read timestamp 'x'"),
        (header + "2024-03-01,0,102,99,101,1\n", "prices.csv:2: open 0 is not positive"),
        (header + "2024-03-01,100,102,99,abc,1\n", "prices.csv:2: cannot read close 'abc'"),
        (header + "2024-03-01,100,102,99,101,-1\n", "prices.csv:2: volume -1 is negative"),
        (header + "2024-03-01,100,102,99,103,1\n", "prices.csv:2: high 102 is below close 103"),
        (
            header + "2024-03-02,100,102,99,101,1\n\n" + row,
            "prices.csv:4: timestamp '2024-03-01' is not after the previous row's (line 2)"
        ),
        (header + row + row, "prices.csv:3: timestamp '2024-03-01' is not after"),
        ("time,open,high,close\n2024-03-01,1,1,1\n", "prices.csv:1: the header has no low, volume column"),
        (header + "2024-03-01,100,102,99,101\n", "prices.csv:2: expected at least 6"),
    ])
    func aBadRowIsAnErrorNamingTheFileAndLine(csv: String, message: String) {
        #expect {
            _ = try OHLCVSeries(csv: csv, source: "prices.csv")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func aSymbolFollowsItsOHLCVFileWithDepthScaledByVolume() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ohlcv-\(UUID()).csv")
        defer { try? FileManager.default.removeItem(at: file) }
        let rows = (0..<4).map { i in
            "\(Int(Self.march1) + i * 60),100,100.5,99.5,100,\(i == 2 ? 30 : 10)"
        }
        try ("timestamp,open,high,low,close,volume\n" + rows.joined(separator: "\n")).write(
            to: file, atomically: true, encoding: .utf8)
        var symbol = SymbolConfig.demo[2]  // SOLUSDT around 100
        symbol.ohlcvPath = file.path
        let start = Date(timeIntervalSince1970: Self.march1)
        var market = try Market(
            config: symbol, venue: VenueConfig(name: "t"), start: start, pathSeed: 1, flowSeed: 2)
        #expect(market.mid == 100)
        for t in 1...150 { _ = market.step(to: start.addingTimeInterval(Double(t)), seconds: 1) }
        #expect(market.conditions.bar?.index == 2 && market.conditions.bar?.volumeFactor == 3)
        #expect(market.model.dailyVolume == 10 * 1440)
        #expect {
            _ = try OHLCVSeries.load("/nonexistent/prices.csv")
        } throws: { error in "\(error)".contains("/nonexistent/prices.csv") }
    }
}

public import Foundation

/// One OHLCV bar: the prices of an interval and the quantity traded in it (base units).
public struct OHLCVBar: Sendable, Equatable {
    /// When the bar opens.
    public var time: Date
    /// First price of the bar.
    public var open: Double
    /// Highest price of the bar.
    public var high: Double
    /// Lowest price of the bar.
    public var low: Double
    /// Last price of the bar.
    public var close: Double
    /// Quantity traded during the bar, in base units.
    public var volume: Double

    /// A bar from its fields.
    public init(time: Date, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// The bars of one asset's OHLCV CSV file, checked and in time order.
///
/// Columns are found by their header names, case-insensitive: `timestamp` (or `time`,
/// `date`, `datetime`, `open_time`; a blank first header also means the timestamp, as
/// pandas writes its index), `open`, `high`, `low`, `close`, `volume`; other columns
/// are ignored. A file without a header is read in Binance's kline order
/// (timestamp, open, high, low, close, volume, …). Timestamps are read by
/// `OHLCVTimestamp`. The bar interval is the most common difference between
/// consecutive timestamps; gaps (missing bars) are allowed.
public struct OHLCVSeries: Sendable {
    /// The file name errors are reported against.
    public let source: String
    /// Bars in strictly increasing time order.
    public let bars: [OHLCVBar]
    /// The bar interval, in seconds: the most common difference between timestamps.
    public let interval: TimeInterval
    /// The median bar volume (the reference for depth and flow).
    public let medianVolume: Double
    /// Daily volatility of the closes (standard deviation of log returns between
    /// adjacent bars, scaled by √(bars per day)); nil when fewer than two returns exist.
    public let dailyVolatility: Double?

    /// Reads and checks `path`; an error names the file and the line.
    public static func load(_ path: String) throws(SimulatorError) -> OHLCVSeries {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .invalidConfig("cannot read OHLCV file \(path)")
        }
        return try OHLCVSeries(csv: text, source: path)
    }

    /// Parses CSV `text`; `source` names it in errors (`source:line: what is wrong`).
    public init(csv text: String, source: String) throws(SimulatorError) {
        self.source = source
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        var columns: Columns?
        var bars: [OHLCVBar] = []
        var previousLine = 0
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            let fields = Self.fields(raw)
            if fields.allSatisfy(\.isEmpty) { continue }
            if columns == nil {
                if let header = try Columns(header: fields, source: source, line: number) {
                    columns = header
                    continue
                }
                columns = Columns.binance
            }
            let bar = try Self.bar(fields, columns!, at: "\(source):\(number)")
            if let last = bars.last, bar.time <= last.time {
                throw .invalidConfig(
                    "\(source):\(number): timestamp '\(fields[columns!.time])' is not after the previous row's "
                        + "(line \(previousLine)); rows must be in time order without duplicates")
            }
            bars.append(bar)
            previousLine = number
        }
        guard bars.count >= 2 else {
            throw .invalidConfig("\(source): needs at least two bars to infer the bar interval")
        }
        self.bars = bars
        self.interval = Self.mostCommonDifference(bars)
        let volumes = bars.map(\.volume).sorted()
        self.medianVolume = volumes[volumes.count / 2]
        self.dailyVolatility = Self.volatility(bars, interval: interval)
    }

    /// The index of the bar in force at `date` (the last one opened by then), nil before the first.
    func barIndex(at date: Date) -> Int? {
        var low = 0
        var high = bars.count
        while low < high {
            let middle = (low + high) / 2
            if bars[middle].time <= date { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    // MARK: Parsing

    /// Where each field is in a row.
    struct Columns {
        let time: Int
        let open: Int
        let high: Int
        let low: Int
        let close: Int
        let volume: Int

        /// Binance's kline order, for files without a header.
        static let binance = Columns(time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5)

        /// The columns a header names; nil when the line is not a header (it holds data).
        init?(header fields: [String], source: String, line: Int) throws(SimulatorError) {
            let names = fields.map { $0.lowercased() }
            let known = [
                "timestamp", "time", "date", "datetime", "open_time", "open", "high", "low", "close", "volume",
            ]
            guard names.contains(where: known.contains) else { return nil }
            func find(_ candidates: [String]) -> Int? { names.firstIndex(where: candidates.contains) }
            let time = find(["timestamp", "time", "date", "datetime", "open_time"]) ?? (names[0].isEmpty ? 0 : nil)
            let found = [
                ("timestamp", time), ("open", find(["open"])), ("high", find(["high"])), ("low", find(["low"])),
                ("close", find(["close"])), ("volume", find(["volume"])),
            ]
            let missing = found.filter { $0.1 == nil }.map(\.0)
            guard missing.isEmpty else {
                throw .invalidConfig(
                    "\(source):\(line): the header has no \(missing.joined(separator: ", ")) column "
                        + "(expected timestamp, open, high, low, close, volume)")
            }
            self.init(
                time: time!, open: found[1].1!, high: found[2].1!, low: found[3].1!, close: found[4].1!,
                volume: found[5].1!)
        }

        init(time: Int, open: Int, high: Int, low: Int, close: Int, volume: Int) {
            self.time = time
            self.open = open
            self.high = high
            self.low = low
            self.close = close
            self.volume = volume
        }
    }

    /// The fields of one CSV line, trimmed and without surrounding quotes.
    static func fields(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { field in
            var text = field.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
            }
            return text
        }
    }

    /// One checked bar; `at` is "file:line" for errors.
    static func bar(_ fields: [String], _ c: Columns, at place: String) throws(SimulatorError) -> OHLCVBar {
        let needed = max(c.time, c.open, c.high, c.low, c.close, c.volume) + 1
        guard fields.count >= needed else {
            throw .invalidConfig("\(place): expected at least \(needed) fields, found \(fields.count)")
        }
        guard let seconds = OHLCVTimestamp.parse(fields[c.time][...]) else {
            throw .invalidConfig("\(place): cannot read timestamp '\(fields[c.time])'")
        }
        // 1970-01-01 through 9999-12-31: a date past that is a typo, and would overflow the bar arithmetic.
        guard seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 else {
            throw .invalidConfig("\(place): timestamp '\(fields[c.time])' is outside 1970–9999")
        }
        func number(_ name: String, _ index: Int, positive: Bool) throws(SimulatorError) -> Double {
            guard let value = Double(fields[index]), value.isFinite else {
                throw .invalidConfig("\(place): cannot read \(name) '\(fields[index])'")
            }
            if positive && value <= 0 { throw .invalidConfig("\(place): \(name) \(fields[index]) is not positive") }
            if !positive && value < 0 { throw .invalidConfig("\(place): \(name) \(fields[index]) is negative") }
            return value
        }
        let bar = OHLCVBar(
            time: Date(timeIntervalSince1970: seconds), open: try number("open", c.open, positive: true),
            high: try number("high", c.high, positive: true), low: try number("low", c.low, positive: true),
            close: try number("close", c.close, positive: true), volume: try number("volume", c.volume, positive: false)
        )
        let text = { (index: Int) in fields[index] }
        if bar.high < bar.low {
            throw .invalidConfig("\(place): high \(text(c.high)) is below low \(text(c.low))")
        }
        for (name, index, value) in [("open", c.open, bar.open), ("close", c.close, bar.close)] {
            if value > bar.high {
                throw .invalidConfig("\(place): high \(text(c.high)) is below \(name) \(text(index))")
            }
            if value < bar.low { throw .invalidConfig("\(place): low \(text(c.low)) is above \(name) \(text(index))") }
        }
        return bar
    }

    /// The most common difference between consecutive bar times (the shortest on a tie).
    static func mostCommonDifference(_ bars: [OHLCVBar]) -> TimeInterval {
        var counts: [Int64: Int] = [:]
        for (a, b) in zip(bars, bars.dropFirst()) {
            counts[Int64(((b.time.timeIntervalSince(a.time)) * 1000).rounded()), default: 0] += 1
        }
        let best = counts.max { x, y in x.value < y.value || (x.value == y.value && x.key > y.key) }!
        return Double(best.key) / 1000
    }

    /// Daily volatility of log closes between bars exactly one interval apart.
    static func volatility(_ bars: [OHLCVBar], interval: TimeInterval) -> Double? {
        var returns: [Double] = []
        for (a, b) in zip(bars, bars.dropFirst())
        where abs(b.time.timeIntervalSince(a.time) - interval) < interval * 0.01 {
            returns.append(log(b.close / a.close))
        }
        guard returns.count >= 2 else { return nil }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(returns.count - 1)
        return (variance * 86_400 / interval).squareRoot()
    }
}

import BallastKit
import BallastTesting
import Foundation
import Testing

@Suite struct CSVWriterTests {
    /// A UTF-8 byte-order mark first (Excel on Windows reads "≤" and "σ" right), unless told not to.
    @Test func startsWithAByteOrderMarkUnlessToldNot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for bom in [true, false] {
            let path = dir.appendingPathComponent("\(bom).csv").path
            let writer = try CSVWriter(path: path, byteOrderMark: bom)
            try writer.writeHeader(["band ≤ σ"])
            try writer.close()
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let header = Array("band ≤ σ\r\n".utf8)
            #expect(bytes == (bom ? [0xEF, 0xBB, 0xBF] : []) + header)
        }
    }

    @Test func writesRFC4180AndNeutralisesFormulas() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("t.csv").path
        let writer = try CSVWriter(path: path)
        try writer.writeHeader(["text", "amount", "at", "flag"])
        let when = Date(timeIntervalSince1970: 1_764_051_420.5)
        try writer.writeRow([.text("plain"), .number("-0.00001000"), .timestamp(when), .bool(true)])
        try writer.writeRow([.text("a,b \"q\"\nline"), .empty, .empty, .bool(false)])
        for hostile in ["=HYPERLINK(\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            try writer.writeRow([.text(hostile), .empty, .empty, .empty])
        }
        // Nothing is visible under the final name until close.
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines[0] == "text,amount,at,flag")
        #expect(lines[1] == "plain,-0.00001000,2025-11-25T06:17:00.500Z,true")
        #expect(lines[2] == "\"a,b \"\"q\"\"\nline\",,,false")
        #expect(lines[3] == "\"'=HYPERLINK(\"\"x\"\")\",,,")
        #expect(lines[4] == "'+1+1,,,")
        #expect(lines[5] == "'-2+3,,,")
        #expect(lines[6] == "'@SUM(A1),,,")
        #expect(lines[7] == "'\tx,,,")
        #expect(lines[8] == "\"'\rx\",,,")

        // Python's csv module (a strict RFC 4180 reader) sees the same fields.
        let parsed = try Openpyxl.runPython(
            "import csv,json,sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))",
            arguments: [path])
        let rows = try JSONDecoder().decode([[String]].self, from: parsed)
        #expect(rows.count == 9)
        #expect(rows[2][0] == "a,b \"q\"\nline")
        #expect(rows[3][0] == "'=HYPERLINK(\"x\")")
    }

    @Test func discardLeavesNoFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-\(UUID().uuidString).csv")
            .path
        let writer = try CSVWriter(path: path)
        try writer.writeRow([.text("x")])
        writer.discard()
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }
}

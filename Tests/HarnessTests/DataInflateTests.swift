import Foundation
import XCTest
import Charts
import Datasets
import Experiment
import SpecFormat

/// Inflate against vectors from Python's gzip and zlib (scripts/make_gzip_vectors.py) and
/// against every kind of damaged input.
final class DataInflateTests: DataFileTestCase {
    // MARK: Plaintext generators, identical to scripts/make_gzip_vectors.py

    /// x -> (1103515245 x + 12345) mod 2^31.
    static func lcgStep(_ x: UInt64) -> UInt64 { (x &* 1_103_515_245 &+ 12345) % (1 << 31) }

    static func wordText(count: Int, seed: UInt64) -> [UInt8] {
        let words = ["batch", "norm", "mean", "variance", "running", "gamma", "beta", "epsilon", "\n"]
        var out: [UInt8] = [], x = seed
        while out.count < count {
            x = lcgStep(x)
            out += Array(words[Int((x >> 16) % UInt64(words.count))].utf8) + [UInt8(ascii: " ")]
        }
        return Array(out.prefix(count))
    }

    static func farMatchBytes() -> [UInt8] {
        var x: UInt64 = 7
        let block = (0..<300).map { _ -> UInt8 in
            x = lcgStep(x)
            return UInt8((x >> 16) & 255)
        }
        return block + [UInt8](repeating: UInt8(ascii: "x"), count: 29000) + block
            + [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    }

    // MARK: Good data

    func testPythonVectorsDecodeToTheirPlaintext() throws {
        XCTAssertEqual(DataGzipVectors.all.count, 9)
        for vector in DataGzipVectors.all {
            let decoded = vector.gzip ? try Inflate.gunzip(vector.compressed) : try Inflate.inflate(vector.compressed)
            XCTAssertEqual(decoded.count, vector.plain.count, vector.name)
            XCTAssertTrue(decoded == vector.plain, vector.name)
        }
    }

    /// The vectors exercise all three block types: BTYPE is bits 1-2 of the first block's first byte.
    func testVectorsCoverStoredFixedAndDynamicBlocks() {
        func firstBlockType(_ bytes: [UInt8], headerSize: Int) -> UInt8 { (bytes[headerSize] >> 1) & 3 }
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel0, headerSize: 10), 0)
        XCTAssertEqual(firstBlockType(DataGzipVectors.rawFixedHuffman, headerSize: 0), 1)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipShortFixed, headerSize: 10), 1)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel1, headerSize: 10), 2)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel9, headerSize: 10), 2)
        XCTAssertEqual(DataGzipVectors.gzipAllHeaderFields[3], 0x1E, "FEXTRA, FNAME, FCOMMENT and FHCRC set")
    }

    func testConcatenatedMembersDecodeToTheConcatenation() throws {
        let joined = DataGzipVectors.gzipLevel1 + DataGzipVectors.gzipEmpty + DataGzipVectors.gzipAllHeaderFields
        let expected = Self.wordText(count: 20000, seed: 2) + Self.wordText(count: 3000, seed: 4)
        XCTAssertTrue(try Inflate.gunzip(joined) == expected)
    }

    func testTrailingZerosAreIgnoredAndOtherTrailingBytesRejected() throws {
        let vector = DataGzipVectors.gzipShortFixed
        XCTAssertEqual(try Inflate.gunzip(vector + [0, 0, 0]), Self.wordText(count: 60, seed: 3))
        assertDatasetError(try Inflate.gunzip(vector + [0x41, 0x42], source: "x.gz"), path: "x.gz",
                           message: "2 bytes of trailing garbage after the gzip data at byte \(vector.count)")
    }

    func testStoredBlocksLongerThanOneBlock() throws {
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 1000) }
        XCTAssertEqual(StoredGzip.crc32(Array("123456789".utf8)), 0xCBF4_3926, "the test writer's CRC")
        XCTAssertTrue(try Inflate.gunzip(StoredGzip.compress(data)) == data)
    }

    func testReadMaybeGzippedReadsPlainAndGzippedFiles() throws {
        let text = Self.wordText(count: 3000, seed: 4)
        let plainPath = try write("plain.txt", text)
        let gzipPath = try write("packed.gz", DataGzipVectors.gzipAllHeaderFields)
        XCTAssertEqual(try Inflate.readMaybeGzipped(path: plainPath), text)
        XCTAssertEqual(try Inflate.readMaybeGzipped(path: gzipPath), text)
        let missing = directory.appendingPathComponent("missing.gz").path
        assertDatasetError(try Inflate.readMaybeGzipped(path: missing), path: missing, message: "no such file")
    }

    // MARK: Damaged data

    func testBadMagic() throws {
        var bytes = DataGzipVectors.gzipShortFixed
        bytes[1] = 0x8C
        let error = assertDatasetError(try Inflate.gunzip(bytes, source: "data.gz"), path: "data.gz",
                                       message: "not gzip data")
        XCTAssertEqual(error?.description, "data.gz: error: not gzip data: starts with [1f 8c], expected [1f 8b]")
        let path = try write("bad.gz", [0x1F, 0x8B, 7] + [UInt8](repeating: 0, count: 20))
        assertDatasetError(try Inflate.readMaybeGzipped(path: path), path: path,
                           message: "gzip member at byte 0: compression method 7 is not deflate (8)")
    }

    func testEveryTruncationIsAnError() {
        let vector = DataGzipVectors.gzipShortFixed
        for cut in 0..<vector.count {
            assertDatasetError(try Inflate.gunzip(Array(vector.prefix(cut)), source: "cut.gz"), path: "cut.gz",
                               message: "", sourceLine: UInt(cut))
        }
        let large = DataGzipVectors.gzipLevel9
        for cut in Array(stride(from: 10, to: large.count, by: 97)) + [large.count - 8, large.count - 1] {
            assertDatasetError(try Inflate.gunzip(Array(large.prefix(cut)), source: "cut.gz"), path: "cut.gz",
                               message: "")
        }
        assertDatasetError(try Inflate.gunzip(Array(large.prefix(large.count - 8))), path: "<memory>",
                           message: "truncated trailer")
        let raw = DataGzipVectors.rawFixedHuffman
        assertDatasetError(try Inflate.inflate(Array(raw.prefix(raw.count / 2))), path: "<memory>",
                           message: "truncated DEFLATE stream")
    }

    func testBadCRCAndISIZE() {
        var bytes = DataGzipVectors.gzipLevel1
        bytes[bytes.count - 8] ^= 0x01
        assertDatasetError(try Inflate.gunzip(bytes, source: "crc.gz"), path: "crc.gz", message: "CRC-32 mismatch")
        bytes = DataGzipVectors.gzipLevel1
        bytes[bytes.count - 1] ^= 0x01
        assertDatasetError(try Inflate.gunzip(bytes, source: "size.gz"), path: "size.gz",
                           message: "ISIZE mismatch: trailer says 16797216 bytes, data has 20000")
    }

    func testHeaderCRCIsChecked() {
        var bytes = DataGzipVectors.gzipAllHeaderFields
        bytes[20] ^= 0x20  // inside FNAME
        assertDatasetError(try Inflate.gunzip(bytes), path: "<memory>", message: "header CRC16")
    }

    /// Flipping one bit of the compressed payload must never go unnoticed (CRC-32 at the latest).
    func testCorruptedPayloadIsDetected() {
        let vector = DataGzipVectors.gzipLevel9
        for position in stride(from: 10, to: vector.count - 8, by: 13) {
            var bytes = vector
            bytes[position] ^= UInt8(1 << (position % 8))
            assertDatasetError(try Inflate.gunzip(bytes), path: "<memory>", message: "", sourceLine: UInt(position))
        }
    }

    func testInvalidBlocks() {
        assertDatasetError(try Inflate.inflate([0x07]), path: "<memory>", message: "invalid DEFLATE block type 3")
        assertDatasetError(try Inflate.inflate([0x01, 0x05, 0x00, 0x00, 0x00] + Array(repeating: 0, count: 5)),
                           path: "<memory>", message: "stored block length 5 does not match its complement 0")
        // Fixed block whose first code is distance 1 with nothing decoded yet: length symbol 257
        // (7-bit code 0000001), distance code 0 (00000).
        assertDatasetError(try Inflate.inflate([0x03, 0x02, 0x00, 0x00]), path: "<memory>",
                           message: "distance 1 reaches before the start of the output")
    }
}

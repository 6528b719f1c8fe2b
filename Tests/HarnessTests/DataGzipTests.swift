import Foundation
import XCTest
import Datasets

/// Gzip against vectors from Python's gzip and zlib (scripts/make_gzip_vectors.py) and
/// against every kind of damaged input, with the exact message each error gives.
final class DataGzipTests: DataFileTestCase {
    // MARK: Plaintext generator, identical to scripts/make_gzip_vectors.py

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

    /// A gzip member header with no optional fields, for raw DEFLATE bytes written by hand.
    static let plainHeader: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]

    // MARK: Good data

    func testPythonVectorsDecodeToTheirPlaintext() throws {
        XCTAssertEqual(DataGzipVectors.all.count, 6)
        for vector in DataGzipVectors.all {
            let decoded = try Gzip.gunzip(vector.compressed)
            XCTAssertEqual(decoded.count, vector.plain.count, vector.name)
            XCTAssertTrue(decoded == vector.plain, vector.name)
        }
    }

    /// The vectors exercise all three block types: BTYPE is bits 1-2 of the first block's first byte.
    func testVectorsCoverStoredFixedAndDynamicBlocks() {
        func firstBlockType(_ bytes: [UInt8]) -> UInt8 { (bytes[10] >> 1) & 3 }
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel0), 0)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipShortFixed), 1)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel1), 2)
        XCTAssertEqual(firstBlockType(DataGzipVectors.gzipLevel9), 2)
        XCTAssertEqual(DataGzipVectors.gzipAllHeaderFields[3], 0x1E, "FEXTRA, FNAME, FCOMMENT and FHCRC set")
    }

    /// Members decode one after the other, as gunzip(1) does; the output outgrows its first
    /// guess (the last member's ISIZE, 3000 bytes here).
    func testConcatenatedMembersDecodeToTheConcatenation() throws {
        let joined = DataGzipVectors.gzipLevel1 + DataGzipVectors.gzipEmpty + DataGzipVectors.gzipAllHeaderFields
        let expected = Self.wordText(count: 20000, seed: 2) + Self.wordText(count: 3000, seed: 4)
        XCTAssertTrue(try Gzip.gunzip(joined) == expected)
    }

    func testTrailingZerosAreIgnoredAndOtherTrailingBytesRejected() throws {
        let vector = DataGzipVectors.gzipShortFixed
        XCTAssertEqual(try Gzip.gunzip(vector + [0, 0, 0]), Self.wordText(count: 60, seed: 3))
        let error = assertDatasetError(try Gzip.gunzip(vector + [0x41, 0x42], source: "x.gz"), path: "x.gz",
                                       message: "")
        XCTAssertEqual(error?.description, "x.gz: error: 2 bytes of trailing garbage after the gzip data at byte 62")
    }

    func testStoredBlocksLongerThanOneBlock() throws {
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 1000) }
        XCTAssertEqual(StoredGzip.crc32(Array("123456789".utf8)), 0xCBF4_3926, "the test writer's CRC")
        XCTAssertTrue(try Gzip.gunzip(StoredGzip.compress(data)) == data)
    }

    func testReadMaybeGzippedReadsPlainAndGzippedFiles() throws {
        let text = Self.wordText(count: 3000, seed: 4)
        let plainPath = try write("plain.txt", text)
        let gzipPath = try write("packed.gz", DataGzipVectors.gzipAllHeaderFields)
        XCTAssertEqual(try Gzip.readMaybeGzipped(path: plainPath), text)
        XCTAssertEqual(try Gzip.readMaybeGzipped(path: gzipPath), text)
        let missing = directory.appendingPathComponent("missing.gz").path
        assertDatasetError(try Gzip.readMaybeGzipped(path: missing), path: missing, message: "no such file")
    }

    // MARK: Damaged data

    /// Asserts that gunzipping `bytes` fails with exactly `expected` as the error's description.
    func assertGunzipError(_ bytes: [UInt8], _ expected: String, source: String = "data.gz",
                           file: StaticString = #filePath, line: UInt = #line) {
        let error = assertDatasetError(try Gzip.gunzip(bytes, source: source), path: source, message: "",
                                       file: file, sourceLine: line)
        XCTAssertEqual(error?.description, expected, file: file, line: line)
    }

    func testBadMagicMethodAndFlags() throws {
        var bytes = DataGzipVectors.gzipShortFixed
        bytes[1] = 0x8C
        assertGunzipError(bytes, "data.gz: error: not gzip data: starts with [1f 8c], expected [1f 8b]")
        assertGunzipError([], "data.gz: error: not gzip data: starts with [], expected [1f 8b]")
        let path = try write("bad.gz", [0x1F, 0x8B, 7] + [UInt8](repeating: 0, count: 20))
        assertDatasetError(try Gzip.readMaybeGzipped(path: path), path: path,
                           message: "gzip member at byte 0: corrupt data near byte 3 (zlib: unknown compression method)")
        assertGunzipError([0x1F, 0x8B, 8, 0xE0] + [UInt8](repeating: 0, count: 20),
                          "data.gz: error: gzip member at byte 0: corrupt data near byte 3 "
                              + "(zlib: unknown header flags set)")
    }

    /// Every cut of a member, from inside its header to inside its trailer, is named a truncation.
    func testEveryTruncationIsAnError() {
        let vector = DataGzipVectors.gzipShortFixed
        assertGunzipError([0x1F], "data.gz: error: not gzip data: starts with [1f], expected [1f 8b]")
        for cut in 2..<vector.count {
            assertGunzipError(Array(vector.prefix(cut)), "data.gz: error: gzip member at byte 0: truncated gzip "
                                  + "stream: the input ends after \(cut) bytes of this member, before its end")
        }
        let large = DataGzipVectors.gzipLevel9
        for cut in Array(stride(from: 10, to: large.count, by: 97)) + [large.count - 8, large.count - 1] {
            assertGunzipError(Array(large.prefix(cut)), "data.gz: error: gzip member at byte 0: truncated gzip "
                                  + "stream: the input ends after \(cut) bytes of this member, before its end")
        }
    }

    func testBadCRCAndISIZE() {
        var bytes = DataGzipVectors.gzipLevel1
        bytes[bytes.count - 8] ^= 0x01
        assertGunzipError(bytes, "data.gz: error: gzip member at byte 0: CRC-32 mismatch: the decoded data does not "
                              + "match the checksum in the trailer (zlib: incorrect data check)")
        bytes = DataGzipVectors.gzipLevel1
        bytes[bytes.count - 1] ^= 0x01
        assertGunzipError(bytes, "data.gz: error: gzip member at byte 0: ISIZE mismatch: the length in the trailer "
                              + "is not the 20000 bytes decoded (zlib: incorrect length check)")
    }

    func testHeaderCRCIsChecked() {
        var bytes = DataGzipVectors.gzipAllHeaderFields
        bytes[20] ^= 0x20  // inside FNAME
        assertGunzipError(bytes, "data.gz: error: gzip member at byte 0: header CRC16 does not match the header "
                              + "(zlib: header crc mismatch)")
    }

    /// An error in a later member names the byte where that member starts.
    func testErrorsInALaterMemberNameItsStart() {
        let first = DataGzipVectors.gzipShortFixed
        var second = DataGzipVectors.gzipLevel1
        second[second.count - 8] ^= 0x01
        assertGunzipError(first + second, "data.gz: error: gzip member at byte 62: CRC-32 mismatch: the decoded "
                              + "data does not match the checksum in the trailer (zlib: incorrect data check)")
        assertGunzipError(first + DataGzipVectors.gzipLevel1.prefix(100), "data.gz: error: gzip member at byte 62: "
                              + "truncated gzip stream: the input ends after 100 bytes of this member, before its end")
    }

    /// Flipping one bit of the compressed payload must never go unnoticed (CRC-32 at the latest).
    func testCorruptedPayloadIsDetected() {
        let vector = DataGzipVectors.gzipLevel9
        for position in stride(from: 10, to: vector.count - 8, by: 13) {
            var bytes = vector
            bytes[position] ^= UInt8(1 << (position % 8))
            assertDatasetError(try Gzip.gunzip(bytes), path: "<memory>", message: "gzip member at byte 0: ",
                               sourceLine: UInt(position))
        }
    }

    /// DEFLATE errors, on hand-written blocks after a plain header; the byte named is the last
    /// one zlib read before it stopped.
    func testInvalidBlocks() {
        assertGunzipError(Self.plainHeader + [0x07], "data.gz: error: gzip member at byte 0: corrupt data near "
                              + "byte 10 (zlib: invalid block type)")
        assertGunzipError(Self.plainHeader + [0x01, 0x05, 0x00, 0x00, 0x00] + Array(repeating: 0, count: 5),
                          "data.gz: error: gzip member at byte 0: corrupt data near byte 14 "
                              + "(zlib: invalid stored block lengths)")
        // Fixed block whose first code is distance 1 with nothing decoded yet: length symbol 257
        // (7-bit code 0000001), distance code 0 (00000).
        assertGunzipError(Self.plainHeader + [0x03, 0x02, 0x00, 0x00], "data.gz: error: gzip member at byte 0: "
                              + "corrupt data near byte 11 (zlib: invalid distance too far back)")
    }
}

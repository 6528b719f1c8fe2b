import Foundation
import NN
import TensorCore
import XCTest

/// The path of `Fixtures/NAME.safetensors` (written by scripts/make_safetensors_fixture.py).
func safetensorsFixturePath(_ name: String) throws -> String {
    let candidates = Fixture.directories.map { $0.appendingPathComponent(name + ".safetensors").path }
    guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) })
    else { throw Fixture.LoadError.notFound(name: name + ".safetensors", searched: candidates) }
    return path
}

/// The safetensors writer and reader against a file Python's safetensors wrote, byte for byte.
final class SafeTensorsTests: XCTestCase {
    /// The tensors of scripts/make_safetensors_fixture.py's `dtype_tensors()`, value for value.
    static let pythonTensors: [String: SafeTensor] = [
        "weight": SafeTensor([1.5, -2.25, 3.0, 0.1, -0.0, 1e-30], shape: [2, 3]),
        "10.bias": SafeTensor([0.5, -0.5] as [Float], shape: [2]),
        "2.bias": SafeTensor([7.0] as [Float], shape: [1]),
        "specials": SafeTensor([Float.infinity, -Float.infinity, Float.leastNonzeroMagnitude,
                                Float(bitPattern: 0x7FC0_0000)], shape: [4]),
        "num_batches_tracked": SafeTensor([7] as [Int64], shape: []),
        "big": SafeTensor([1 << 40, -3] as [Int64], shape: [2]),
        "indices": SafeTensor([0, -1, Int32.max, Int32.min] as [Int32], shape: [4]),
        "mask": SafeTensor([0, 1, 1, 1, 0, 255] as [UInt8], shape: [2, 3]),
        "empty": SafeTensor([] as [Float], shape: [0, 3]),
        "na\u{EF}ve \"quoted\"\n\t\\": SafeTensor([1.0] as [Float], shape: [1]),
    ]

    func testWriterProducesTheBytesPythonWrote() throws {
        let path = try safetensorsFixturePath("safetensors_dtypes")
        let python = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let swift = SafeTensorsFile(tensors: Self.pythonTensors, metadata: ["format": "pt"]).serialized()
        XCTAssertEqual(swift.count, python.count, "file sizes")
        let firstDifference = zip(swift, python).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDifference, "\(path): the Swift writer's bytes differ from Python's first at byte "
                     + "\(firstDifference ?? -1); header: \(String(decoding: swift.prefix(600), as: UTF8.self))")
    }

    func testReaderReadsPythonsFile() throws {
        let file = try SafeTensorsFile(contentsOf: try safetensorsFixturePath("safetensors_dtypes"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(Set(file.tensors.keys), Set(Self.pythonTensors.keys))
        XCTAssertEqual(file.tensors, Self.pythonTensors)  // dtype, shape and every byte
        XCTAssertEqual(file.tensors["weight"]?.floats, [1.5, -2.25, 3.0, 0.1, -0.0, 1e-30])
        XCTAssertEqual(file.tensors["num_batches_tracked"]?.integers, [7])
        XCTAssertEqual(file.tensors["big"]?.integers, [1 << 40, -3])
        XCTAssertEqual(file.tensors["indices"]?.integers, [0, -1, Int(Int32.max), Int(Int32.min)])
        XCTAssertEqual(file.tensors["mask"]?.integers, [0, 1, 1, 1, 0, 255])
        XCTAssertNil(file.tensors["mask"]?.floats, "a U8 tensor has no floats")
        XCTAssertEqual(file.tensors["empty"]?.elementCount, 0)
    }

    func testRoundTripKeepsEveryTensorAndTheMetadata() throws {
        var rng = RandomGenerator(seed: 3)
        var tensors: [String: SafeTensor] = [:]
        for i in 0..<20 {
            let shape = [1 + Int(rng.next() % 4), 1 + Int(rng.next() % 5)]
            let n = shape.reduce(1, *)
            switch i % 4 {
            case 0: tensors["t\(i)"] = SafeTensor((0..<n).map { _ in rng.nextFloat() * 2 - 1 }, shape: shape)
            case 1: tensors["t\(i)"] = SafeTensor((0..<n).map { _ in Int64(bitPattern: rng.next()) }, shape: shape)
            case 2: tensors["t\(i)"] = SafeTensor((0..<n).map { _ in Int32(truncatingIfNeeded: rng.next()) }, shape: shape)
            default: tensors["t\(i)"] = SafeTensor((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, shape: shape)
            }
        }
        let file = SafeTensorsFile(tensors: tensors, metadata: ["b": "2", "a": "1 \u{1}"])
        let bytes = file.serialized()
        XCTAssertEqual(try SafeTensorsFile(parsing: bytes, file: "round-trip"), file)
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(headerLength % 8, 0, "the header is padded to 8 bytes, as Python's")
        XCTAssertEqual(try SafeTensorsFile(parsing: SafeTensorsFile().serialized(), file: "empty"), SafeTensorsFile())
    }

    // MARK: Errors name the file and the byte

    /// A file of one F32 tensor "a" of 2 values with the given header text (unpadded).
    private func file(header: String, data: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + Array(header.utf8) + data
    }

    private func error(_ bytes: [UInt8]) -> String {
        do {
            _ = try SafeTensorsFile(parsing: bytes, file: "m.safetensors")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testAValidHandWrittenFileReads() throws {
        let parsed = try SafeTensorsFile(parsing: file(header: #" { "a" : {"shape":[2], "dtype":"F32", "data_offsets":[0,8]} }"#),
                                         file: "m.safetensors")
        XCTAssertEqual(parsed.tensors["a"]?.floats, [1, 2])
        XCTAssertNil(parsed.metadata)
    }

    func testErrorsSayWhatIsWrongAndAtWhichByte() {
        XCTAssertEqual(error([1, 2, 3]), "m.safetensors: byte 0: error: the file has 3 bytes, fewer than the 8 of the header length")
        XCTAssertEqual(error([200, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)),
                       "m.safetensors: byte 0: error: header length 200 runs past the end of the file (10 bytes)")
        XCTAssertEqual(error(file(header: #"{"__metadata__":{"k":1}}"#, data: [])),
                       "m.safetensors: byte 29: error: __metadata__ value of \"k\" is not a string")
        XCTAssertEqual(error(file(header: "{\"a\u{1}\":1}", data: [])),
                       "m.safetensors: byte 11: error: control character 0x1 in a string (it must be escaped)")
        XCTAssertEqual(error(file(header: "[]", data: [])), "m.safetensors: byte 8: error: the header is not a JSON object")
        // Headers that are refused, each with the message it gets (the data is 8 bytes).
        let refused: [(header: String, message: String)] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}"#,
             "m.safetensors: byte 62: error: expected a quoted key, found '}'"),
            (#"{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}"#,
             "m.safetensors: byte 22: error: tensor \"a\": dtype BF16 is not supported (supported: F32, I64, I32, U8)"),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
             "m.safetensors: byte 9: error: tensor \"a\": shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
             "m.safetensors: byte 9: error: data bytes 0..<4 (file bytes 62..<66) belong to no tensor: tensor \"a\" begins at 4"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
             "m.safetensors: byte 66: error: data bytes 4..<8 (file bytes 66..<70) belong to no tensor"),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
             "m.safetensors: byte 9: error: tensor \"a\": data_offsets [0, 16] run past the end of the data " + "(8 bytes, file bytes 63..<71)"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{}}"#,
             "m.safetensors: byte 62: error: duplicate key \"a\""),
            (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#,
             "m.safetensors: byte 37: error: expected an integer, found a number with a fraction or an exponent"),
            (#"{"a":{"dtype":"F32","shape":[2]}}"#,
             "m.safetensors: byte 9: error: tensor \"a\" has no data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
             "m.safetensors: byte 61: error: tensor \"a\": unknown field \"x\" (a tensor has dtype, shape and data_offsets)"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x"#,
             "m.safetensors: byte 63: error: unexpected 'x' after the header's JSON object"),
        ]
        for (header, message) in refused {
            XCTAssertEqual(error(file(header: header)), message, header)
        }
    }

    func testTwoTensorsThatOverlapAreRefused() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        XCTAssertEqual(error(file(header: header)),
                       "m.safetensors: byte 62: error: tensor \"b\" (data_offsets [4, 8]) overlaps the tensor before it, which ends at 8")
    }
}

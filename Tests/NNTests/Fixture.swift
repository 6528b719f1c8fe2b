import Foundation

/// One golden case written by `scripts/pytorch_golden.py` into `Tests/NNTests/Fixtures/NAME.json`.
///
/// File format: `{"case": NAME, "torch_version": V, "config": {...}, "scalars": {...},
/// "tensors": {NAME: {"shape": [Int], "values": [Float]}}}`. Layouts are PyTorch's: Linear weight
/// (out, in), Conv2d weight (out, in, kh, kw), activations N C H W row-major. Values are float32
/// numbers printed with enough digits to parse back to the same `Float`.
struct Fixture {
    /// Errors while finding or reading a fixture file; each names the file.
    enum LoadError: Error, CustomStringConvertible {
        /// No `NAME.json` in the bundle's `Fixtures` folder nor beside this source file.
        case notFound(name: String, searched: [String])
        /// The file exists but does not have the format above.
        case malformed(path: String, reason: String)

        var description: String {
            switch self {
            case let .notFound(name, searched):
                return "fixture '\(name)' not found; searched: \(searched.joined(separator: ", "))"
            case let .malformed(path, reason):
                return "\(path): error: \(reason)"
            }
        }
    }

    /// The case name (the file name without `.json`).
    let name: String
    /// The PyTorch version that wrote the file.
    let torchVersion: String
    /// The case's settings (layer sizes, eps, momentum, ...), as JSONSerialization returns them:
    /// numbers are `NSNumber` (read with `as? Double` / `as? Int`), `null` is `NSNull`.
    let config: [String: Any]
    /// The file the fixture came from, for messages.
    let path: String
    private let tensors: [String: (shape: [Int], values: [Float])]
    private let scalars: [String: Any]

    /// Names of every tensor in the file, sorted.
    var tensorNames: [String] { tensors.keys.sorted() }
    /// Names of every scalar in the file, sorted.
    var scalarNames: [String] { scalars.keys.sorted() }

    /// The directories searched for fixtures, in order: the test bundle's copied `Fixtures`
    /// resource, then `Fixtures/` beside this source file.
    static var directories: [URL] {
        var result: [URL] = []
        if let resources = Bundle.module.resourceURL {
            result.append(resources.appendingPathComponent("Fixtures", isDirectory: true))
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        result.append(source.appendingPathComponent("Fixtures", isDirectory: true))
        return result
    }

    /// Every fixture name (file names without `.json`), sorted, from the first directory that has any.
    static func allNames() throws -> [String] {
        for directory in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
            else { continue }
            let names = files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
            if !names.isEmpty { return names.sorted() }
        }
        throw LoadError.notFound(name: "*.json", searched: directories.map(\.path))
    }

    /// Loads `Fixtures/NAME.json`.
    static func load(_ name: String) throws -> Fixture {
        let candidates = directories.map { $0.appendingPathComponent(name + ".json") }
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) })
        else { throw LoadError.notFound(name: name, searched: candidates.map(\.path)) }
        return try Fixture(url: url)
    }

    private init(url: URL) throws {
        let path = url.path
        func fail(_ reason: String) -> LoadError { .malformed(path: path, reason: reason) }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let root = object as? [String: Any] else { throw fail("top level is not an object") }
        guard let name = root["case"] as? String else { throw fail("missing string \"case\"") }
        guard let torchVersion = root["torch_version"] as? String
        else { throw fail("missing string \"torch_version\"") }
        guard let config = root["config"] as? [String: Any] else { throw fail("missing object \"config\"") }
        guard let scalars = root["scalars"] as? [String: Any] else { throw fail("missing object \"scalars\"") }
        guard let rawTensors = root["tensors"] as? [String: Any] else { throw fail("missing object \"tensors\"") }
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (key, raw) in rawTensors {
            guard let entry = raw as? [String: Any],
                  let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                  let numbers = entry["values"] as? [NSNumber]
            else { throw fail("tensor \"\(key)\" lacks an integer \"shape\" or a number \"values\" array") }
            tensors[key] = (shape, numbers.map(\.floatValue))
        }
        self.name = name
        self.torchVersion = torchVersion
        self.config = config
        self.path = path
        self.tensors = tensors
        self.scalars = scalars
    }

    /// The tensor `name` as (shape, row-major values). A missing name is a bug in the test that
    /// asks for it, so it stops with the file and the names that exist.
    func tensor(_ name: String) -> (shape: [Int], values: [Float]) {
        guard let tensor = tensors[name] else {
            preconditionFailure("\(path): no tensor '\(name)'; tensors: \(tensorNames.joined(separator: ", "))")
        }
        return tensor
    }

    /// The numeric scalar `name` (losses, counters). Stops with the file and the names that exist
    /// when it is missing or not a number.
    func scalar(_ name: String) -> Double {
        guard let number = scalars[name] as? NSNumber else {
            preconditionFailure("\(path): no numeric scalar '\(name)'; scalars: \(scalarNames.joined(separator: ", "))")
        }
        return number.doubleValue
    }

    /// The scalar `name` that is a list of `[key, shape]` pairs (a state dict's keys and shapes, in order).
    func keysAndShapes(_ name: String) -> [(key: String, shape: [Int])] {
        guard let list = scalars[name] as? [[Any]] else {
            preconditionFailure("\(path): no [key, shape] list '\(name)'; scalars: \(scalarNames.joined(separator: ", "))")
        }
        return list.map { pair in
            guard pair.count == 2, let key = pair[0] as? String, let shape = (pair[1] as? [NSNumber])?.map(\.intValue) else {
                preconditionFailure("\(path): '\(name)' has an entry that is not [key, shape]: \(pair)")
            }
            return (key, shape)
        }
    }

    /// The text scalar `name` (error messages). Stops with the file and the names that exist
    /// when it is missing or not a string.
    func text(_ name: String) -> String {
        guard let string = scalars[name] as? String else {
            preconditionFailure("\(path): no text scalar '\(name)'; scalars: \(scalarNames.joined(separator: ", "))")
        }
        return string
    }
}

import Foundation

/// Parsers and canonical renderers of the settings whose values are more than
/// a number, a choice or a switch. Each `parse` reads a ``SettingInput`` and
/// returns the assignment; each `render` writes the canonical text that
/// `parse` reads back to the same value.
enum SettingParsers {}

// MARK: - Data

extension SettingParsers {
    /// `shapes [size=16] [noise=0.25]` | `csv path=P [label_column=first|last|N] [shape=CxHxW]
    /// [scale=X] [header=auto|yes|no]` | `idx images=P labels=P` | `cifar10 path=P[,P...]`.
    static func dataset(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let source: DatasetSource
        switch try kind.oneOf("dataset", ["shapes", "csv", "idx", "cifar10"]) {
        case "shapes":
            let k = try input.keywords("dataset shapes", allowed: ["size", "noise"])
            let size = try k.optional("size")?.integer("shapes size", atLeast: 12) ?? 16
            let noise = try k.optional("noise")?.float("shapes noise", in: .atLeast(0)) ?? 0.25
            source = .shapes(size: size, noise: noise)
        case "csv":
            let k = try input.keywords("dataset csv", allowed: ["path", "label_column", "shape", "scale", "header"])
            var csv = CSVSource(path: try input.resolve(k.required("path")))
            if let column = k.optional("label_column") {
                switch column.text {
                case "first": csv.labelColumn = .first
                case "last": csv.labelColumn = .last
                default:
                    guard SpecNumber.isInteger(column.text) else {
                        throw SpecProblem(column.location, "csv label_column must be first, last or a"
                                          + " 0-based column index, got \(quoted(column.text))")
                    }
                    csv.labelColumn = .index(try column.integer("csv label_column", atLeast: 0))
                }
            }
            if let shape = k.optional("shape") {
                let sides = try shape.split("x", count: 3, name: "csv shape", form: "CxHxW (e.g. 1x28x28)")
                    .map { try $0.integer("csv shape", atLeast: 1) }
                csv.shape = ImageShape(channels: sides[0], height: sides[1], width: sides[2])
            }
            csv.scale = try k.optional("scale")?.float("csv scale", in: .above(0)) ?? 1
            csv.header = try k.optional("header")?.choice("csv header", CSVHeaderChoice.self) ?? .auto
            source = .csv(csv)
        case "idx":
            let k = try input.keywords("dataset idx", allowed: ["images", "labels"])
            source = .idx(images: try input.resolve(k.required("images")),
                          labels: try input.resolve(k.required("labels")))
        default:
            let k = try input.keywords("dataset cifar10", allowed: ["path"])
            let paths = try k.required("path").split(",").map { try input.resolve($0) }
            source = .cifar10(batches: paths)
        }
        return { $0.dataset = source }
    }

    static func renderDataset(_ config: ExperimentConfig) -> String {
        switch config.dataset {
        case let .shapes(size, noise):
            return "shapes size=\(size) noise=\(SpecNumber.format(noise))"
        case let .csv(csv):
            let column: String
            switch csv.labelColumn {
            case .first: column = "first"
            case .last: column = "last"
            case let .index(i): column = String(i)
            }
            let shape = csv.shape.map { " shape=\($0.channels)x\($0.height)x\($0.width)" } ?? ""
            return "csv path=\(csv.path) label_column=\(column)\(shape) scale=\(SpecNumber.format(csv.scale))"
                + " header=\(csv.header.rawValue)"
        case let .idx(images, labels):
            return "idx images=\(images) labels=\(labels)"
        case let .cifar10(batches):
            return "cifar10 path=\(batches.joined(separator: ","))"
        }
    }

    /// `none` | `[gain=LO:HI] [offset=LO:HI]` (gain 0 < LO <= HI; offset LO <= HI).
    static func jitter(_ input: inout SettingInput) throws -> SettingAssignment {
        if try input.first().text == "none" {
            _ = try input.single()
            return { $0.jitter = .none }
        }
        let k = try input.keywordsOnly("jitter", allowed: ["gain", "offset"])
        let gain = try k.optional("gain").map { try interval($0, "jitter gain", in: .above(0)) } ?? 1...1
        let offset = try k.optional("offset").map { try interval($0, "jitter offset", in: .any) } ?? 0...0
        return { $0.jitter = .gainOffset(gain: gain, offset: offset) }
    }

    static func renderJitter(_ config: ExperimentConfig) -> String {
        guard case let .gainOffset(gain, offset) = config.jitter else { return "none" }
        func text(_ r: ClosedRange<Float>) -> String {
            "\(SpecNumber.format(r.lowerBound)):\(SpecNumber.format(r.upperBound))"
        }
        return "gain=\(text(gain)) offset=\(text(offset))"
    }

    /// `LO:HI` with both ends in `range` and LO <= HI.
    private static func interval(_ token: SpecToken, _ name: String, in range: NumberRange) throws -> ClosedRange<Float> {
        let ends = try token.split(":", count: 2, name: name, form: "LO:HI")
        let low = try ends[0].float(name, in: range), high = try ends[1].float(name, in: range)
        guard low <= high else {
            throw SpecProblem(token.location, "\(name) must have LO <= HI, got \(quoted(token.text))")
        }
        return low...high
    }

    /// `same` | `none` | `own` | `MEAN,STD` (STD > 0).
    static func testNormalize(_ input: inout SettingInput) throws -> SettingAssignment {
        let token = try input.single()
        let value: TestNormalization
        switch token.text {
        case "same": value = .same
        case "none": value = .none
        case "own": value = .own
        default:
            guard token.text.contains(",") else {
                throw SpecProblem(token.location, "test_normalize must be one of same, none, own, MEAN,STD;"
                                  + " got \(quoted(token.text))"
                                  + NearestName.suggestion(for: token.text, in: ["same", "none", "own"]))
            }
            let pair = try token.split(",", count: 2, name: "test_normalize", form: "MEAN,STD")
            value = .fixed(mean: try pair[0].float("test_normalize mean", in: .any),
                           std: try pair[1].float("test_normalize std", in: .above(0)))
        }
        return { $0.testNormalize = value }
    }

    static func renderTestNormalize(_ config: ExperimentConfig) -> String {
        switch config.testNormalize {
        case .same: return "same"
        case .none: return "none"
        case .own: return "own"
        case let .fixed(mean, std): return "\(SpecNumber.format(mean)),\(SpecNumber.format(std))"
        }
    }

    /// A fraction in [0, 1]; above 0 warns that the test split leaks from the training split.
    static func splitOverlap(_ input: inout SettingInput) throws -> SettingAssignment {
        let token = try input.single()
        let value = try token.float("split_overlap", in: .fraction)
        if value > 0 {
            input.warn(token, "split_overlap \(token.text): \(String(format: "%g", Double(value) * 100))% of the"
                       + " test split is drawn from the training split, so test accuracy overstates"
                       + " generalization (a leakage experiment)")
        }
        return { $0.splitOverlap = value }
    }
}

import Foundation
import NN
import XCTest

/// The layer families whose agreement with PyTorch is summarized separately.
enum GoldenFamily: String, CaseIterable {
    case batchNorm = "BatchNorm"
    case batchRenorm = "BatchRenorm"
    case mabn = "MABN"
    case cbn = "CBN"
    case groupNorm = "GroupNorm"
    case layerNorm = "LayerNorm"
    case filterResponseNorm = "FilterResponseNorm"
    case evoNormS0 = "EvoNormS0"
    case evoNormB0 = "EvoNormB0"
    case conv2d = "Conv2d"
    case pooling = "Pooling"
    case linear = "Linear"
    case crossEntropy = "CrossEntropy"
    case leakyReLU = "LeakyReLU"
    case dropPath = "DropPath"
    case cnnTraining = "3-step SGD CNN"
    case resnetTraining = "3-step SGD ResNet-8"
    case fixupTraining = "2-step SGD Fixup ResNet"
    case resnetFRN = "3-step SGD ResNet frn"
    case resnetEvoNormS0 = "3-step SGD ResNet evonorm_s0"
    case resnetEvoNormB0 = "3-step SGD ResNet evonorm_b0"
    case resnetMABN = "3-step SGD ResNet mabn"
    case resnetCBN = "3-step SGD ResNet cbn"
    case optimizers = "Optimizers"
    case sharedBatchNorm = "Shared BatchNorm CNN"
}

/// How far a Swift value may be from PyTorch's: element `i` passes when
/// `|actual - expected| <= atol + rtol * |expected|` (numpy's `allclose`).
struct GoldenTolerance {
    let rtol: Float
    let atol: Float

    /// One layer, one forward or backward from the recorded inputs. The fixtures README: an
    /// independent float32 implementation that sums in another order agrees to about 1e-5
    /// relative, with a 1e-6 absolute floor for values that cancel to near zero.
    static let singleLayer = GoldenTolerance(rtol: 1e-5, atol: 1e-6)
    /// A parameter gradient of one layer: a sum over the batch and every pixel (98 products for
    /// a 7x7 conv output at N = 2) whose small entries are what is left after the terms cancel.
    /// PyTorch's own float32 values are that far from exact: recomputed in float64 from the
    /// recorded inputs, `conv2d_3to4_k3_s1_p1` dweight (entries up to 23) differs by 5.2e-6, so
    /// the absolute floor is 1e-5.
    static let parameterGradient = GoldenTolerance(rtol: 1e-5, atol: 1e-5)
    /// The small CNN after up to 3 SGD steps: rounding differences in the forward change the
    /// gradients, the update feeds them back, so they compound (README: ~1e-4 relative).
    static let threeStepCNN = GoldenTolerance(rtol: 1e-4, atol: 1e-6)
    /// A check that only an absolute bound makes sense for (values mathematically near zero,
    /// whose relative error is meaningless).
    static func absolute(_ atol: Float) -> GoldenTolerance { GoldenTolerance(rtol: 0, atol: atol) }
}

/// The largest errors seen so far, per family, over every `assertClose` of this test run.
///
/// - elementwise relative error `|actual - expected| / |expected|`, over the elements where the
///   relative tolerance governs (`rtol * |expected| >= atol`); below that the check is absolute
///   and the ratio is rounding noise on a value that cancelled to near zero;
/// - normwise relative error `max |actual - expected| / max |expected|` of a whole tensor, where
///   `rtol * max |expected| >= atol`;
/// - absolute error `|actual - expected|`, over every element.
/// The relative measures skip a tensor whose every entry is below the absolute floor (a
/// gradient that is zero up to rounding) and checks with an absolute tolerance only (`rtol == 0`).
final class GoldenErrorRecord: @unchecked Sendable {  // Sendable: `lock` guards `errors`
    /// The worst error of one kind in one family and the check it came from.
    struct Worst { var error: Double = 0; var what = "-" }
    /// The three measures above for one family.
    struct Errors { var elementwise = Worst(), normwise = Worst(), absolute = Worst() }

    static let shared = GoldenErrorRecord()
    private let lock = NSLock()
    private var errors: [GoldenFamily: Errors] = [:]

    /// Keeps the larger of the stored and the given errors; returns the family's worst so far.
    func record(_ family: GoldenFamily, _ measured: Errors) -> Errors {
        lock.lock(); defer { lock.unlock() }
        var worst = errors[family, default: Errors()]
        func keep(_ new: Worst, _ old: inout Worst) { if new.error > old.error || old.what == "-" { old = new } }
        keep(measured.elementwise, &worst.elementwise)
        keep(measured.normwise, &worst.normwise)
        keep(measured.absolute, &worst.absolute)
        errors[family] = worst
        return worst
    }

    /// One line per family seen: its worst errors of each kind and where they occurred.
    func summary(_ families: [GoldenFamily]) -> String {
        lock.lock(); defer { lock.unlock() }
        return families.compactMap { family -> String? in
            guard let e = errors[family] else { return nil }
            return String(format: "golden max errors %@: elementwise relative %.2e (%@), normwise relative %.2e (%@), "
                          + "absolute %.2e (%@)", family.rawValue, e.elementwise.error, e.elementwise.what,
                          e.normwise.error, e.normwise.what, e.absolute.error, e.absolute.what)
        }.joined(separator: "\n")
    }
}

/// Compares Swift results with the tensors of one fixture, for one layer family.
struct GoldenChecker {
    let family: GoldenFamily
    let fixture: Fixture

    /// Asserts `actual` equals `expected` elementwise within `atol + rtol * |expected|`, records
    /// the family's worst errors, and on failure names the worst element (index, actual,
    /// expected, relative error), how many elements failed, and the family's worst relative error.
    func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        let label = "\(fixture.name) \(what)"
        guard actual.count == expected.count else {
            return XCTFail("\(label): \(actual.count) values, PyTorch has \(expected.count)", file: file, line: line)
        }
        var worstIndex = 0, worstExcess = -Double.infinity, failures = 0
        var measured = GoldenErrorRecord.Errors()
        var largestExpected = 0.0
        for i in 0..<actual.count {
            let a = Double(actual[i]), e = Double(expected[i])
            let error = a.isNaN ? Double.infinity : Swift.abs(a - e)
            let allowed = Double(atol) + Double(rtol) * Swift.abs(e)
            if !(error <= allowed) { failures += 1 }
            let excess = error / max(allowed, .leastNonzeroMagnitude)
            if excess > worstExcess { worstExcess = excess; worstIndex = i }
            largestExpected = max(largestExpected, Swift.abs(e))
            measured.absolute.error = max(measured.absolute.error, error)
            if rtol > 0, Double(rtol) * Swift.abs(e) >= Double(atol) {
                measured.elementwise.error = max(measured.elementwise.error, error / Swift.abs(e))
            }
        }
        if rtol > 0, Double(rtol) * largestExpected >= Double(atol) {
            measured.normwise.error = measured.absolute.error / largestExpected
        }
        measured.elementwise.what = label; measured.normwise.what = label; measured.absolute.what = label
        let familyWorst = GoldenErrorRecord.shared.record(family, measured)
        guard failures > 0 else { return }
        let a = actual[worstIndex], e = expected[worstIndex]
        let relative = Swift.abs(Double(a) - Double(e)) / Swift.abs(Double(e))
        XCTFail("\(label): \(failures) of \(actual.count) values outside rtol \(rtol), atol \(atol); worst [\(worstIndex)] "
                + "Swift \(a), PyTorch \(e), relative error \(String(format: "%.3e", relative)); "
                + "\(family.rawValue) worst elementwise relative error so far "
                + "\(String(format: "%.3e", familyWorst.elementwise.error)) (\(familyWorst.elementwise.what))", file: file, line: line)
    }

    /// `assertClose` against the fixture's tensor `name`.
    func assertClose(_ actual: [Float], _ name: String, _ tolerance: GoldenTolerance, _ what: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) {
        assertClose(actual, fixture.tensor(name).values, rtol: tolerance.rtol, atol: tolerance.atol, what ?? name,
                    file: file, line: line)
    }
}

extension GoldenChecker {
    /// One forward and backward of `layer` against the fixture's `PREFIXx`, `PREFIXdy`, `PREFIXy`,
    /// `PREFIXdx` and `PREFIXd<name>` for each parameter: gradients are zeroed first, so they
    /// are fresh like PyTorch's. `tolerance` applies to y and dx (unless `dx` is given); parameter
    /// gradients use `parameters`. `dy` is reshaped to the Swift output's shape when the two differ
    /// only in shape (adaptive pooling to 1x1 is `(N, C, 1, 1)` in PyTorch, `(N, C)` here: the
    /// same row-major values).
    func assertForwardBackward(_ layer: Layer, prefix: String = "", mode: Mode, _ tolerance: GoldenTolerance,
                               dx dxTolerance: GoldenTolerance? = nil,
                               parameters parameterTolerance: GoldenTolerance = .parameterGradient,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        layer.zeroGradients()
        let y = try layer.forward(fixture.swiftTensor(prefix + "x"), mode: mode)
        assertClose(y.array, prefix + "y", tolerance, file: file, line: line)
        let dy = fixture.swiftTensor(prefix + "dy")
        if dy.shape != y.shape { dy.reshape(to: y.shape) }
        let dx = layer.backward(dy)
        assertClose(dx.array, prefix + "dx", dxTolerance ?? tolerance, file: file, line: line)
        for parameter in layer.parameters {
            let name = prefix + "d" + parameter.name
            assertClose(parameter.gradient.array, name, parameterTolerance, file: file, line: line)
        }
    }
}

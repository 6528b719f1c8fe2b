import XCTest
import NN
import TensorCore

/// Finite-difference checking of hand-written backward passes.
///
/// Objective: `L = sum_i y_i * dy_i` for a fixed random `dy` (so `dL/dy = dy` exactly),
/// or any scalar head, such as cross-entropy, that returns its own `dL/dy`.
/// Numeric derivative of `L` with respect to one stored value `v` (central difference):
/// `(L(v+) - L(v-)) / (v+ - v-)`, `v± = Float(v ± h)`, `h = relativeStep * max(1, |v|)`;
/// the denominator is taken from the two Float values actually stored, so the
/// rounding of `v ± h` does not enter the result.
///
/// Tolerance, and why (defaults of ``Tolerance``):
/// - Noise: the forward runs in Float32 (unit roundoff `u = 6e-8`); `L` is summed in
///   Double from the Float outputs, so for the tiny O(1) tensors used here (at most a few
///   hundred outputs) `L` carries an absolute error of about 1e-6. Divided by `2h = 2e-2`
///   that is ~1e-4 absolute in each numeric derivative: below 1e-3 relative for
///   gradients of size >= 0.1.
/// - Truncation: the central difference errs by `h^2/6 * |f'''|`, ~2e-4 for `h = 1e-2`
///   and `|f'''| <= 10` (normalized O(1) data). Piecewise-linear layers (ReLU, pooling)
///   have no truncation error as long as no step crosses a kink; their tests use inputs
///   that keep every value further than `h` from a kink or tie.
/// - Hence a whole-tensor check `||a - n|| <= 1e-2 * max(||a||, ||n||)` has at least a
///   tenfold margin over the expected error, while a wrong factor, sign, missing term or
///   swapped index errs by 5 % or more (``GradientCheckTests`` shows 5 % is caught).
/// - Per element the bound is looser, `|a_i - n_i| <= 3e-2 * |n_i| + 5e-3 * max_j |n_j|`:
///   the noise is about the same absolute size for every element, so elements whose
///   gradient is near 0 need the absolute term, scaled to the tensor's largest gradient.
/// - Both bounds add a floor of 1e-5 (per element; `1e-5 * sqrt(count)` for the norm) for
///   gradients that are exactly 0 in real arithmetic, such as a conv bias followed by
///   BatchNorm, where the analytic value is pure rounding (~1e-8). Every other tensor the
///   tests check has a largest gradient of at least 8e-3, 800 times the floor.
/// - Measured when written: the largest relative-norm error over all checks in this target
///   is 2.3e-4 (the end-to-end CNN), most are ~1e-5; the tolerance leaves a 40-fold margin.
///
/// Layers with state: every perturbed evaluation runs on a fresh `clone()` of the layer
/// as it was before the check, so train-mode forwards (which update running statistics)
/// never feed into each other, and Dropout's copied random stream repeats the same mask.
/// The analytic pass runs once on the layer itself.
enum GradientCheck {
    /// Turns a network output into the scalar loss and `dLoss/dOutput`.
    typealias Objective = (Tensor) throws -> (loss: Double, outputGradient: Tensor)
    /// Runs a layer's forward: `layer.forward(x, mode:)` by default, or e.g. Dropout's fixed-mask forward.
    typealias Forward = (Layer, Tensor) throws -> Tensor

    /// The default finite-difference step, relative to `max(1, |v|)`.
    static let defaultStep: Float = 1e-2

    /// Bounds on `analytic - numeric`; see ``GradientCheck`` for why these values.
    struct Tolerance {
        /// `||a - n|| <= relativeNorm * max(||a||, ||n||)` over the whole tensor.
        var relativeNorm = 1e-2
        /// Per element: `|a_i - n_i| <= elementRelative * |n_i| + elementOfMax * max_j |n_j|`.
        var elementRelative = 3e-2
        var elementOfMax = 5e-3
        /// Added to both bounds (per element; times `sqrt(count)` for the norm).
        var absolute = 1e-5
    }

    /// The outcome of comparing one tensor's analytic gradient with its numeric one.
    struct Comparison {
        let label: String
        let analytic: [Double]
        let numeric: [Double]
        /// `||a - n|| / max(||a||, ||n||)` (0 when both are 0).
        let relativeNormError: Double
        /// Human-readable reasons the comparison failed; empty when it passed.
        let failures: [String]
    }

    /// Every comparison made by one check.
    struct Report {
        var comparisons: [Comparison] = []
        var failures: [String] { comparisons.flatMap(\.failures) }

        /// Fails the calling test for each failed comparison, and when nothing was compared.
        func assertPasses(file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertFalse(comparisons.isEmpty, "gradient check compared nothing", file: file, line: line)
            for failure in failures { XCTFail(failure, file: file, line: line) }
        }
    }

    // MARK: - Building blocks

    /// Central differences of `loss` with respect to every value of `values`, which is
    /// perturbed in place (one value at a time) and restored exactly afterwards.
    static func numericGradient(of values: Tensor, relativeStep: Float = defaultStep,
                                loss: () throws -> Double) rethrows -> [Double] {
        var result = [Double](repeating: 0, count: values.count)
        for i in 0..<values.count {
            let original = values.data[i]
            let h = relativeStep * max(1, abs(original))
            let plus = original + h, minus = original - h
            values.data[i] = plus
            let lossPlus = try loss()
            values.data[i] = minus
            let lossMinus = try loss()
            values.data[i] = original
            result[i] = (lossPlus - lossMinus) / (Double(plus) - Double(minus))
        }
        return result
    }

    /// Compares an analytic gradient with a numeric one under `tolerance`.
    static func compare(_ label: String, analytic: [Double], numeric: [Double],
                        tolerance: Tolerance = Tolerance()) -> Comparison {
        guard analytic.count == numeric.count else {
            return Comparison(label: label, analytic: analytic, numeric: numeric, relativeNormError: .infinity,
                              failures: ["\(label): \(analytic.count) analytic values, \(numeric.count) numeric"])
        }
        var diffSq = 0.0, analyticSq = 0.0, numericSq = 0.0, maxNumeric = 0.0
        for i in analytic.indices {
            let d = analytic[i] - numeric[i]
            diffSq += d * d
            analyticSq += analytic[i] * analytic[i]
            numericSq += numeric[i] * numeric[i]
            maxNumeric = max(maxNumeric, abs(numeric[i]))
        }
        let scale = max(analyticSq, numericSq).squareRoot()
        let relative = scale == 0 ? 0 : diffSq.squareRoot() / scale
        var failures: [String] = []
        let allowedNorm = tolerance.relativeNorm * scale + tolerance.absolute * Double(analytic.count).squareRoot()
        if !(diffSq.squareRoot() <= allowedNorm) {
            failures.append("\(label): ||analytic - numeric|| / ||.|| = \(relative) > \(tolerance.relativeNorm)")
        }
        var badElements: [String] = []
        for i in analytic.indices {
            let allowed = tolerance.elementRelative * abs(numeric[i]) + tolerance.elementOfMax * maxNumeric
                + tolerance.absolute
            if !(abs(analytic[i] - numeric[i]) <= allowed) {
                badElements.append("[\(i)] analytic \(analytic[i]) numeric \(numeric[i])")
            }
        }
        if !badElements.isEmpty {
            failures.append("\(label): \(badElements.count) of \(analytic.count) elements outside tolerance: "
                            + badElements.prefix(4).joined(separator: ", "))
        }
        return Comparison(label: label, analytic: analytic, numeric: numeric, relativeNormError: relative,
                          failures: failures)
    }

    /// `L = sum y * dy` for a fixed `dy`, summed in Double.
    static func projection(onto dy: Tensor) -> Objective {
        return { y in
            precondition(y.shape == dy.shape, "projection: output \(y.shape) but dy \(dy.shape)")
            var sum = 0.0
            for i in 0..<y.count { sum += Double(y.data[i]) * Double(dy.data[i]) }
            return (sum, dy)
        }
    }

    /// Mean softmax cross-entropy against `labels`: the gradient is the loss layer's own
    /// (checked against its own Float loss in ``LossGradientTests``); the loss is recomputed
    /// in Double from the logits, because a Float loss of ~1.4 is quantized in steps of
    /// 1.2e-7, which divided by `2h` would be 6e-6 of noise on gradients of ~1e-3.
    static func crossEntropy(labels: [Int32]) -> Objective {
        let head = SoftmaxCrossEntropy()
        return { logits in
            labels.withUnsafeBufferPointer { _ = head.forward(logits: logits, labels: $0) }
            let k = logits.shape.channels
            var total = 0.0
            for (row, label) in labels.enumerated() {
                let z = (0..<k).map { Double(logits.data[row * k + $0]) }
                let top = z.max()!
                total += top + log(z.reduce(0) { $0 + exp($1 - top) }) - z[Int(label)]
            }
            return (total / Double(labels.count), head.gradient)
        }
    }

    // MARK: - Layer check

    /// Checks `dL/dx` and `dL/dparameter` of `layer` at `input` in `mode`.
    ///
    /// `objective` defaults to a projection onto `dy ~ N(0, 1)` drawn from `seed`.
    /// Parameter gradients are pre-filled with a sentinel before the analytic backward and
    /// the sentinel is subtracted afterwards, so a backward that assigns instead of
    /// accumulating (`+=`) fails the check. The check also fails when forward or backward
    /// changes `input`.
    ///
    /// `reference`, when given, is the function differenced instead of `layer`: one that
    /// equals `layer` near `input` and has the same parameters in the same order (e.g. the
    /// same network with its ReLU masks and max-pool choices frozen, see ``FrozenKinks``).
    static func check(_ layer: Layer, input: Tensor, mode: Mode, seed: UInt64 = 0x5EED,
                      objective givenObjective: Objective? = nil, forward givenForward: Forward? = nil,
                      reference: Layer? = nil,
                      relativeStep: Float = defaultStep, tolerance: Tolerance = Tolerance()) throws -> Report {
        let forward: Forward = givenForward ?? { try $0.forward($1, mode: mode) }
        let pristine = (reference ?? layer).clone()
        precondition(pristine.parameters.map(\.value.shape) == layer.parameters.map(\.value.shape),
                     "gradient check: the reference's parameters differ from \(layer.name)'s")
        let objective: Objective
        if let givenObjective {
            objective = givenObjective
        } else {
            let outputShape = try forward(pristine.clone(), input.copy()).shape
            objective = projection(onto: TestTensors.normal(outputShape, seed: seed))
        }

        // Analytic pass on the layer itself.
        let inputBefore = input.array
        let sentinel: Float = 0.25
        for p in layer.parameters { p.gradient.fill(sentinel) }
        let output = try forward(layer, input)
        let outputGradient = try objective(output).outputGradient
        let inputGradient = layer.backward(outputGradient).array.map(Double.init)
        let parameterGradients = layer.parameters.map { $0.gradient.array.map { Double($0) - Double(sentinel) } }

        var report = Report()
        if input.array != inputBefore {
            report.comparisons.append(Comparison(label: "\(layer.name) input", analytic: [], numeric: [],
                                                 relativeNormError: 0,
                                                 failures: ["\(layer.name): forward/backward changed its input"]))
        }

        // Numeric pass: every evaluation on a fresh clone of the state before the analytic pass.
        let perturbedInput = input.copy()
        let loss: () throws -> Double = { try objective(forward(pristine.clone(), perturbedInput)).loss }
        let numericInput = try numericGradient(of: perturbedInput, relativeStep: relativeStep, loss: loss)
        report.comparisons.append(compare("\(layer.name) dL/dx", analytic: inputGradient, numeric: numericInput,
                                          tolerance: tolerance))
        for (index, p) in pristine.parameters.enumerated() {
            let numeric = try numericGradient(of: p.value, relativeStep: relativeStep, loss: loss)
            report.comparisons.append(compare("\(layer.name) dL/d\(p.name)#\(index)",
                                              analytic: parameterGradients[index], numeric: numeric,
                                              tolerance: tolerance))
        }
        return report
    }
}

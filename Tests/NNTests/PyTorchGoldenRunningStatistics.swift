import Foundation
import NN
import TensorCore
import XCTest

extension Fixture {
    /// The config's momentum under `key`: a number is `.exponential`, `null` (PyTorch's None)
    /// is `.cumulative`.
    func momentum(_ key: String = "momentum") -> BNMomentum {
        if let m = config[key] as? Double { return .exponential(Float(m)) }
        precondition(config[key] is NSNull, "\(path): config '\(key)' is neither a number nor null")
        return .cumulative
    }
}

extension GoldenChecker {
    /// The procedure shared by the BatchNorm and Batch Renormalization fixtures: loads
    /// `initial.<parameter>`, `initial.running_mean`, `initial.running_var` into `layer`; runs
    /// `steps` train steps, comparing y, dx (tolerance `dx`), the parameter gradients and the
    /// running statistics after each, then calls `afterEachStep("stepK.")` for the layer's own
    /// checks; finally one eval step, which must leave the running statistics as they were.
    func assertTrainStepsThenEval(_ layer: RunningStatisticsLayer, steps: Int, dx: GoldenTolerance,
                                  file: StaticString = #filePath, line: UInt = #line,
                                  afterEachStep: (_ prefix: String) -> Void) throws {
        for parameter in layer.parameters { fixture.copy("initial." + parameter.name, into: parameter.value) }
        fixture.copy("initial.running_mean", into: layer.runningMean)
        fixture.copy("initial.running_var", into: layer.runningVar)
        for step in 1...steps {
            let prefix = "step\(step)."
            try assertForwardBackward(layer, prefix: prefix, mode: .train, .singleLayer, dx: dx, file: file, line: line)
            // Computed in double from the same x, rounded once: as tight as y.
            assertClose(layer.runningMean.array, prefix + "running_mean", .singleLayer, file: file, line: line)
            assertClose(layer.runningVar.array, prefix + "running_var", .singleLayer, file: file, line: line)
            afterEachStep(prefix)
        }
        let beforeEval = layer.snapshotRunningStatistics()
        try assertForwardBackward(layer, prefix: "eval.", mode: .eval, .singleLayer, file: file, line: line)
        XCTAssertEqual(layer.snapshotRunningStatistics(), beforeEval,
                       "\(fixture.name): eval mode changed the running statistics", file: file, line: line)
    }
}

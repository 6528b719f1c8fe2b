import XCTest
@testable import NN
@testable import TensorCore

/// Holds a layer's parallel passes to its one-thread pass, bit for bit: the same layer (a clone of
/// one initialized layer) runs forward and backward twice (the second pass accumulates into the
/// gradients of the first) on ``ComputeThreads/serial`` and on each of ``pools``, and every output,
/// input gradient, parameter gradient and running statistic must have the same bit pattern.
enum ThreadCountCheck {
    /// 2 and 3 threads, 3 workspaces worked by fewer threads (workers that wake too late), and 2 of 3
    /// threads active (a sweep's cell before it takes spare cores).
    static let pools: [(name: String, threads: ComputeThreads)] = [
        ("2 threads", ComputeThreads(count: 2)),
        ("3 threads", ComputeThreads(count: 3)),
        ("3 workspaces, caller alone", ComputeThreads(count: 3, startedWorkers: 0)),
        ("3 workspaces, 2 threads", ComputeThreads(count: 3, startedWorkers: 1)),
        ("3 threads, 2 active", ComputeThreads(count: 3, active: 2)),
    ]

    /// Every value a pass produced, as bit patterns, labelled for the failure message.
    typealias Trace = [(label: String, bits: [UInt32])]

    /// Runs `layer`'s clones on every pool and compares them with the serial run. `inputs` are the two
    /// passes' inputs, `gradients` their output gradients. Returns how many times workers joined a
    /// region (the caller checks that the work was in fact shared).
    @discardableResult
    static func assertSameBits<L: Layer>(_ layer: L, inputs: [Tensor], gradients: [Tensor], mode: Mode,
                                         _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let reference = try trace(layer.clone(), inputs: inputs, gradients: gradients, mode: mode)
        var joins = 0
        for (name, threads) in pools {
            let before = threads.workerJoins
            let parallel = try trace(layer.clone(), inputs: inputs, gradients: gradients, mode: mode.on(threads))
            joins += threads.workerJoins - before
            XCTAssertEqual(parallel.map(\.label), reference.map(\.label), "\(what), \(name)", file: file, line: line)
            for (p, r) in zip(parallel, reference) where p.bits != r.bits {
                let first = zip(p.bits, r.bits).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(p.bits.count, r.bits.count)
                XCTFail("\(what), \(name): \(r.label) differs from one thread's (\(p.bits.count) vs \(r.bits.count)"
                        + " values, first at \(first))", file: file, line: line)
            }
        }
        return joins
    }

    static func trace(_ layer: Layer, inputs: [Tensor], gradients: [Tensor], mode: Mode) throws -> Trace {
        var trace: Trace = []
        layer.zeroGradients()
        for (pass, (x, dy)) in zip(inputs, gradients).enumerated() {
            trace.append(("output \(pass)", bits(try layer.forward(x, mode: mode))))
            trace.append(("input gradient \(pass)", bits(layer.backward(dy))))
        }
        for (i, p) in layer.parameters.enumerated() {
            trace.append(("parameter \(i) \(p.name) gradient", bits(p.gradient)))
            trace.append(("parameter \(i) \(p.name) value", bits(p.value)))
        }
        for (i, s) in layer.allLayers.compactMap({ ($0 as? RunningStatisticsLayer)?.snapshotRunningStatistics() }).enumerated() {
            trace.append(("running mean \(i)", s.mean.map(\.bitPattern)))
            trace.append(("running variance \(i)", s.variance.map(\.bitPattern)))
        }
        return trace
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }
}

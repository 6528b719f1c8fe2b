import Foundation

/// The measurements of one trained model, each computed once for all the cells that measure it.
///
/// The cells that share a training (``TrainedModelCache``: they differ in evaluation settings or in
/// test-only data settings) used to repeat every measurement pass; most depend only on the trained
/// model, the data and their own settings (``MeasurementPass``), so equal passes give equal results:
/// the first cell to ask computes one (on its own copy of the model), the others get its result, the
/// value or the error it threw. A pass under way on another thread is waited for, not computed twice,
/// as the cache does for trainings. Within one cell, two columns that are the same computation
/// (`test_acc_train_mode` and `test_acc_batch_stats` when the training batch size is `eval_batch_size`)
/// are computed once the same way.
///
/// Sound only while the model's state is the same whenever a pass starts: every pass on the model
/// itself runs in a mode that changes nothing but workspaces (eval, adapted), and the others run on
/// copies. A Dropout that drops in eval mode (`dropout_in_eval`) draws from the model's stream in
/// every pass, so each pass depends on the passes before it; ``CellRunner`` then measures without a memo.
///
/// Memory: the entries hold only results (counts, statistics' errors), never a model; the memo lives in
/// the cache's entry and in every cell's copy of it, so it goes when the last cell of its training is done.
final class MeasurementMemo: @unchecked Sendable {  // Sendable: `condition` guards the state
    private enum State {
        case computing
        case done(Result<Any, any Error>)
    }

    private let condition = NSCondition()
    private var states: [MeasurementPass: State] = [:]
    private var computedCount = 0
    private var requestCount = 0

    init() {}

    /// How many passes were computed (the rest of ``requests`` were answered from the memo).
    var computed: Int { condition.withLock { computedCount } }
    /// How many passes were asked for.
    var requests: Int { condition.withLock { requestCount } }

    /// The result of `pass`: computed with `compute` on its first request, rethrowing what it threw.
    /// `compute` must not ask the memo for another pass (a thread waiting on it could wait for itself).
    func result<T>(of pass: MeasurementPass, compute: () throws -> T) throws -> T {
        func typed(_ result: Result<Any, any Error>) throws -> T {
            guard let value = try result.get() as? T else {
                preconditionFailure("measurement \(pass.kind) was asked for as \(T.self), computed as another type")
            }
            return value
        }
        condition.lock()
        requestCount += 1
        while true {
            switch states[pass] {
            case .done(let result)?:
                condition.unlock()
                return try typed(result)
            case .computing?:
                condition.wait()
            case nil:
                states[pass] = .computing
                computedCount += 1
                condition.unlock()
                let result = Result<Any, any Error> { try compute() }
                condition.lock()
                states[pass] = .done(result)
                condition.broadcast()
                condition.unlock()
                return try typed(result)
            }
        }
    }
}

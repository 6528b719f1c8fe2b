import Foundation
import TensorCore
import XCTest

final class FloatingPointModeTests: XCTestCase {
    /// A value the optimizer cannot fold at compile time.
    @inline(never) private func opaque(_ x: Float) -> Float { x }

    func testFlushedModeTurnsDenormalResultsAndInputsIntoZero() {
        let tiny = opaque(Float.leastNormalMagnitude)  // 2^-126, the smallest normal float
        let denormal = opaque(Float.leastNormalMagnitude / 4)  // 2^-128
        let before = FloatingPointMode.denormalsFlushed
        FloatingPointMode.withDenormalsFlushed {
            XCTAssertTrue(FloatingPointMode.denormalsFlushed)
            XCTAssertEqual(tiny * opaque(0.5), 0, "flush-to-zero: the denormal result is 0")
            XCTAssertEqual(opaque(denormal) + opaque(0), 0, "denormals-are-zero: a denormal input reads as 0")
        }
        XCTAssertEqual(FloatingPointMode.denormalsFlushed, before, "withDenormalsFlushed restores the previous mode")
        if !before {
            XCTAssertEqual(tiny * opaque(0.5), Float.leastNormalMagnitude / 2, "default mode: a denormal result")
        }
    }

    func testThreadsStartedByAFlushedThreadInheritTheMode() {
        final class Flag: @unchecked Sendable {  // written by the thread before `done` is signalled
            var value = false
        }
        let flag = Flag()
        let done = DispatchSemaphore(value: 0)
        FloatingPointMode.withDenormalsFlushed {
            Thread.detachNewThread { flag.value = FloatingPointMode.denormalsFlushed; done.signal() }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(flag.value)
    }
}

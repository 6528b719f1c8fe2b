@testable import NN
import TensorCore
import XCTest

/// ``MaxPool2d/forward2x2`` (eight, four and one output at a time, without branches) against the
/// plain window scan ``MaxPool2d/forwardReference``: same maxima and the same argmax, including
/// ties (the first in row-major window order wins), NaN (the first NaN wins) and infinities.
final class MaxPoolKernelTests: XCTestCase {
    func testTwoByTwoMatchesReferenceScan() {
        var rng = RandomGenerator(seed: 11)
        // values from a small set, so ties are frequent
        let palette: [Float] = [-.infinity, -1, 0, -0.0, 0.5, 1, 2, .infinity, .nan]
        for h in 2...9 {
            for w in [2, 3, 4, 5, 7, 8, 9, 14, 15, 16, 17, 24, 28, 31] {
                let planes = 3
                for nanShare in [0, 1] {
                    let count = planes * h * w
                    let x: [Float] = (0..<count).map { _ in
                        let pick = rng.nextInt(below: palette.count - 1 + nanShare)
                        return palette[pick]
                    }
                    let outCount = planes * (h / 2) * (w / 2)
                    var y = [Float](repeating: 7, count: outCount), yRef = y
                    var arg = [Int32](repeating: -1, count: outCount), argRef = arg
                    MaxPool2d.forward2x2(x, &y, &arg, planes: planes, height: h, width: w)
                    MaxPool2d.forwardReference(x, &yRef, &argRef, planes: planes, height: h, width: w, kernel: 2, stride: 2)
                    XCTAssertEqual(arg, argRef, "argmax \(h)x\(w) nan=\(nanShare)")
                    XCTAssertEqual(y.map(\.bitPattern), yRef.map(\.bitPattern), "values \(h)x\(w) nan=\(nanShare)")
                }
            }
        }
    }
}

import XCTest
@testable import Charts
@testable import Experiment
@testable import SpecFormat

final class ChartAxisTests: XCTestCase {
    func labelled(_ axis: ResolvedAxis) -> [AxisTick] { axis.ticks.filter { $0.label != nil } }

    func testLog2TicksForRange1To128AreExactlyThePowersOfTwo() {
        let powers = (0...7).map { AxisTick(value: Double(1 << $0), label: String(1 << $0)) }
        let fixed = ResolvedAxis(axis: ChartAxis(title: "batch size", scale: .log2, range: 1...128), values: [])
        XCTAssertEqual(fixed.ticks, powers)
        let fromData = ResolvedAxis(axis: ChartAxis(title: "batch size", scale: .log2), values: [1, 8, 128])
        XCTAssertEqual(fromData.ticks, powers, "padding adds no powers of two")
        XCTAssertEqual(fromData.lower, -0.35, accuracy: 1e-12, "5 % of the 7-octave span below log2(1)")
        XCTAssertEqual(fromData.upper, 7.35, accuracy: 1e-12)
    }

    func testLog2LabelsBelowOneAreFractions() {
        let axis = ResolvedAxis(axis: ChartAxis(title: "lr", scale: .log2, range: 0.03125...1), values: [])
        XCTAssertEqual(labelled(axis).map(\.label), ["1/32", "1/16", "0.125", "0.25", "0.5", "1"])
    }

    func testLog10TicksAreDecadesWithPlainLabelsAndUnlabelledMinorLines() {
        let axis = ResolvedAxis(axis: ChartAxis(title: "relative error", scale: .log10, range: 0.001...10), values: [])
        XCTAssertEqual(labelled(axis).map(\.label), ["0.001", "0.01", "0.1", "1", "10"])
        XCTAssertEqual(axis.ticks.count - labelled(axis).count, 4 * 8, "2..9 × 10^k in each of four decades")
        // Values ≤ 0 cannot be drawn on a log axis and do not stretch the range.
        let fromData = ResolvedAxis(axis: ChartAxis(title: "e", scale: .log10), values: [0, -1, .nan, 0.01, 1])
        XCTAssertEqual(labelled(fromData).map(\.label), ["0.01", "0.1", "1"])
    }

    func testLog10WithinOneDecadeLabelsTwosAndFives() {
        let axis = ResolvedAxis(axis: ChartAxis(title: "e", scale: .log10, range: 0.15...0.6), values: [])
        XCTAssertEqual(labelled(axis).map(\.label), ["0.2", "0.5"])
    }

    func testLinearAccuracyAxisTicksEveryTwentyOnFullRangeAndEveryTenFromData() {
        let full = ResolvedAxis(axis: ChartAxis(title: "test accuracy (%)", range: 0...100), values: [])
        XCTAssertEqual(full.ticks.map(\.label), ["0", "20", "40", "60", "80", "100"])
        // Data 30...100 padded by 3.5 to 26.5...103.5: steps of 10 give 8 ticks, 20 give 4; ties go to more.
        let fromData = ResolvedAxis(axis: ChartAxis(title: "test accuracy (%)"), values: [30, 65, 100])
        XCTAssertEqual(fromData.ticks.map(\.value), [30, 40, 50, 60, 70, 80, 90, 100])
    }

    func testLinearTickLabelsCarryTheStepsDecimals() {
        let axis = ResolvedAxis(axis: ChartAxis(title: "loss", range: 0...1), values: [])
        XCTAssertEqual(axis.ticks.map(\.label), ["0", "0.2", "0.4", "0.6", "0.8", "1"])
    }

    func testSingleValueAndEmptyDataStillGiveAnAxis() {
        let single = ResolvedAxis(axis: ChartAxis(title: "y"), values: [5])
        XCTAssertLessThan(single.lower, 5)
        XCTAssertGreaterThan(single.upper, 5)
        XCTAssertFalse(single.ticks.isEmpty)
        let empty = ResolvedAxis(axis: ChartAxis(title: "x", scale: .log2), values: [.nan])
        XCTAssertEqual(empty.ticks.map(\.label), ["1", "2", "4", "8"])
    }

    func testFractionMapsTheDomainToZeroOne() {
        let axis = ResolvedAxis(axis: ChartAxis(title: "b", scale: .log2, range: 1...256), values: [])
        XCTAssertEqual(axis.fraction(16)!, 0.5, accuracy: 1e-12)
        XCTAssertNil(axis.fraction(0))
        XCTAssertNil(axis.fraction(.nan))
    }
}

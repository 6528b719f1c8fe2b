import Foundation
import XCTest

/// Proves the PyTorch fixtures are whole and that `Fixture` reads them exactly, so a layer test that
/// fails against a fixture points at the layer, not at the file.
final class FixtureTests: XCTestCase {
    func testEveryFixtureLoadsAndEveryTensorCountEqualsItsShapeProduct() throws {
        let names = try Fixture.allNames()
        XCTAssertGreaterThanOrEqual(names.count, 35, "scripts/pytorch_golden.py writes 35 cases")
        for name in names {
            let fixture = try Fixture.load(name)
            XCTAssertEqual(fixture.name, name, "\(fixture.path): \"case\" differs from the file name")
            XCTAssertFalse(fixture.torchVersion.isEmpty, fixture.path)
            XCTAssertFalse(fixture.tensorNames.isEmpty, "\(fixture.path): no tensors")
            for tensorName in fixture.tensorNames {
                let (shape, values) = fixture.tensor(tensorName)
                XCTAssertTrue(shape.allSatisfy { $0 > 0 }, "\(fixture.path): \(tensorName) shape \(shape)")
                XCTAssertEqual(values.count, shape.reduce(1, *),
                               "\(fixture.path): \(tensorName) has \(values.count) values for shape \(shape)")
                XCTAssertTrue(values.allSatisfy(\.isFinite), "\(fixture.path): \(tensorName) not finite")
            }
        }
    }

    /// Every number in a tensor must be a float32 value written with enough digits, and `Fixture`
    /// must read it back as exactly that Float (no tolerance). The reference parse is the standard
    /// library's correctly rounded `Double(String)` on the raw text, one tensor per line as the script
    /// writes it, because Foundation's JSONSerialization on Linux can be a few Double ulps off (which
    /// is harmless once rounded to Float, and this test proves it).
    func testEveryTensorValueIsAnExactFloat32ReadBackExactly() throws {
        for name in try Fixture.allNames() {
            let fixture = try Fixture.load(name)
            let text = try String(contentsOfFile: fixture.path, encoding: .utf8)
            var seen = 0
            for line in text.split(separator: "\n") where line.contains("\"values\":[") {
                let tensorName = String(line.split(separator: "\"")[1])
                let list = line.split(separator: "[").last!.split(separator: "]").first ?? ""
                let doubles = list.split(separator: ",").map { Double(String($0)) }
                XCTAssertFalse(doubles.contains(nil), "\(fixture.path): \(tensorName) has a non-number")
                let exact = doubles.compactMap { $0 }
                let inexact = exact.filter { Double(Float($0)) != $0 }
                XCTAssertTrue(inexact.isEmpty, "\(fixture.path): \(tensorName) holds non-float32 \(inexact.prefix(3))")
                XCTAssertEqual(fixture.tensor(tensorName).values, exact.map { Float($0) },
                               "\(fixture.path): \(tensorName) read back differently")
                seen += 1
            }
            XCTAssertEqual(seen, fixture.tensorNames.count, "\(fixture.path): expected one tensor per line")
        }
    }

    func testScalarsConfigAndTextReadBack() throws {
        let error = try Fixture.load("batchnorm1d_batch1_train_error")
        XCTAssertTrue(error.text("error").hasPrefix("Expected more than 1 value per channel when training"))
        let batchNorm = try Fixture.load("batchnorm1d_n2_momentum0p1")
        XCTAssertEqual(batchNorm.scalar("step3.num_batches_tracked"), 3)
        XCTAssertEqual(batchNorm.config["momentum"] as? Double, 0.1)
        XCTAssertEqual(batchNorm.tensor("initial.running_var").values, [1, 1, 1])
        let cumulative = try Fixture.load("batchnorm1d_n2_cumulative")
        XCTAssertTrue(cumulative.config["momentum"] is NSNull, "momentum=None is written as null")
    }

    func testMissingFixtureThrowsNotFoundWithTheSearchedPaths() {
        XCTAssertThrowsError(try Fixture.load("no_such_fixture")) { error in
            guard case let Fixture.LoadError.notFound(name, searched) = error else {
                return XCTFail("expected notFound, got \(error)")
            }
            XCTAssertEqual(name, "no_such_fixture")
            XCTAssertFalse(searched.isEmpty)
        }
    }
}

import Reports
import XCTest

final class StudentTTests: XCTestCase {
    /// scipy 1.17.1: `stats.t.ppf(0.975, df)`; 1e-9 relative (the bisection stops at 1e-12, the
    /// continued fraction at 1e-15; the rest is lgamma's rounding).
    func testQuantilesMatchScipy() {
        let scipy: [(Double, Double)] = [
            (1, 12.706204736174694), (2, 4.302652729749462), (3, 3.1824463052837078), (4, 2.7764451051977934),
            (5, 2.5705818356363146), (9, 2.262157162798205), (11, 2.200985160091639), (23, 2.0686576104190486),
            (47, 2.0117405137297655), (143, 1.976692197929798), (1000, 1.9623390808264083),
        ]
        for (df, expected) in scipy {
            XCTAssertEqual(StudentT.quantile(0.975, df: df), expected, accuracy: 1e-9 * expected, "df \(df)")
            XCTAssertEqual(StudentT.quantile(0.025, df: df), -expected, accuracy: 1e-9 * expected, "df \(df)")
        }
    }

    /// scipy: `stats.t.cdf(2.0, 5)`, `stats.t.cdf(-1.3, 3)`.
    func testCDFMatchesScipy() {
        XCTAssertEqual(StudentT.cdf(2.0, df: 5), 0.9490302605850708, accuracy: 1e-12)
        XCTAssertEqual(StudentT.cdf(-1.3, df: 3), 0.14223375436394853, accuracy: 1e-12)
        XCTAssertEqual(StudentT.cdf(0, df: 7), 0.5, accuracy: 1e-15)
    }

    /// Two seeds with values 50 and 60: std 7.0711, t_{0.975,1} = 12.706, half-width 63.53.
    func testHalfWidth() throws {
        let s = 50.0.squareRoot()
        XCTAssertEqual(try XCTUnwrap(StudentT.halfWidth95(std: s, n: 2)), 12.706204736174694 * s / 2.0.squareRoot(),
                       accuracy: 1e-9)
        XCTAssertNil(StudentT.halfWidth95(std: 1, n: 1))
    }
}

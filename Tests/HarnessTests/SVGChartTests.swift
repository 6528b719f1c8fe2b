import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

final class SVGChartTests: XCTestCase {
    static let modes = ["train mode", "eval mode", "recalibrated", "batch statistics"]

    /// The report's main figure: 3 panels, x = batch size 1...128 on log2, 4 series with error bars,
    /// one NaN point (a run that diverged), a chance line.
    static func accuracyChart() -> Chart {
        let batchSizes = [1.0, 2, 4, 8, 16, 32, 64, 128]
        let panels = ["momentum 0.1", "momentum 0.01", "cumulative"].map { title in
            ChartPanel(title: title, series: modes.enumerated().map { index, label in
                ChartSeries(label: label, points: batchSizes.map { batch in
                    let accuracy = 35 + Double(index) * 10 + 5 * log2(batch)
                    return ChartPoint(x: batch, y: label == "eval mode" && batch == 2 ? .nan : accuracy,
                                      error: 8 / batch)
                })
            })
        }
        return Chart(title: "Accuracy vs batch size", panels: panels,
                     xAxis: ChartAxis(title: "batch size", scale: .log2),
                     yAxis: ChartAxis(title: "test accuracy (%)", range: 0...100),
                     referenceLines: [ChartReferenceLine(y: 100.0 / 3, label: "chance")])
    }

    func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    func testSVGIsWellFormedXMLWithSizeMatchingViewBox() throws {
        var chart = Self.accuracyChart()
        chart.title = "Accuracy <&> \"quoted\" 'single'"
        let svg = chart.svg()
        #if canImport(FoundationXML) || os(macOS)
        // XMLParser is strict (corelibs' XMLDocument recovers from errors silently); on Linux it can report
        // success and still set parserError, so both are checked.
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse())
        XCTAssertNil(parser.parserError)
        let document = try XMLDocument(xmlString: svg, options: [])
        let root = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(root.name, "svg")
        // Looked up through `attributes`: corelibs' attribute(forName:) misses them under a default namespace.
        let attribute = { (name: String) in root.attributes?.first { $0.name == name }?.stringValue }
        let width = try XCTUnwrap(attribute("width"))
        let height = try XCTUnwrap(attribute("height"))
        XCTAssertEqual(attribute("viewBox"), "0 0 \(width) \(height)")
        XCTAssertEqual(Double(width)?.rounded(), Double(width), "whole pixels")
        XCTAssertEqual(root.elements(forName: "title").first?.stringValue, chart.title)
        #else
        throw XCTSkip("no XML parser on this platform")
        #endif
    }

    func testNonFinitePointsLeaveAGapAndNeverReachTheSVG() {
        let chart = Chart(title: "gap", panels: [ChartPanel(title: "p", series: [
            ChartSeries(label: "s", points: [
                ChartPoint(x: 1, y: 10), ChartPoint(x: 2, y: .nan), ChartPoint(x: 3, y: 30, error: .nan),
                ChartPoint(x: 4, y: 40, error: .infinity), ChartPoint(x: .infinity, y: 5), ChartPoint(x: 6, y: 60),
            ]),
        ])], xAxis: ChartAxis(title: "x"), yAxis: ChartAxis(title: "y"))
        let svg = chart.svg()
        XCTAssertNil(svg.range(of: "nan", options: .caseInsensitive))
        XCTAssertNil(svg.range(of: "inf", options: .caseInsensitive))
        // One data line: segments 1 | 3-4 | 6, i.e. three moves and one line-to; four markers, no error bars.
        let line = svg.components(separatedBy: "\n").filter { $0.hasPrefix("<path d=\"M") && $0.contains("1.8") }
        XCTAssertEqual(line.count, 1)
        XCTAssertEqual(count("M", in: line[0]), 3)
        XCTAssertEqual(count(" L", in: line[0]), 1)
        XCTAssertEqual(count("<circle", in: svg), 4 + 1, "4 drawable points + the legend marker")
        XCTAssertEqual(count("stroke-width=\"1.2\" fill=\"none\"", in: svg), 0)
    }

    func testLegendListsEachSeriesOnceAndLabelsKeepTheirStyleAcrossPanels() {
        var chart = Self.accuracyChart()
        chart.panels[1].series.reverse()
        chart.panels[2].series.removeFirst()
        let svg = chart.svg()
        XCTAssertEqual(count("class=\"legend-entry\"", in: svg), 4)
        for label in Self.modes {
            XCTAssertEqual(count(">\(label)</text>", in: svg), 1, label)
        }
        // "train mode" is style 0 (blue) in the two panels that have it, "eval mode" style 1 in all three:
        // each line path plus the legend sample.
        XCTAssertEqual(count("stroke=\"#0072B2\" stroke-width=\"1.8\"", in: svg), 2 + 1)
        XCTAssertEqual(count("stroke=\"#D55E00\" stroke-width=\"1.8\"", in: svg), 3 + 1)
    }

    func testTextIsEscaped() {
        XCTAssertEqual(SVGText.escaped("a & b < c > \"d\" 'e'"), "a &amp; b &lt; c &gt; &quot;d&quot; &apos;e&apos;")
        XCTAssertEqual(SVGText.escaped("bell\u{7}\ttab"), "bell tab", "control characters are not allowed in XML")
        let chart = Chart(title: "<script>", panels: [ChartPanel(title: "A&B", series: [
            ChartSeries(label: "x<y", points: [ChartPoint(x: 1, y: 1)]),
        ])], xAxis: ChartAxis(title: "\"x\""), yAxis: ChartAxis(title: "y'"))
        let svg = chart.svg()
        XCTAssertFalse(svg.contains("<script>"))
        for escaped in ["&lt;script&gt;", ">A&amp;B<", ">x&lt;y<", ">&quot;x&quot;<", ">y&apos;<"] {
            XCTAssertTrue(svg.contains(escaped), escaped)
        }
    }

    func testSameChartGivesTheSameBytes() {
        XCTAssertEqual(Self.accuracyChart().svg(), Self.accuracyChart().svg())
    }

    func testNumbersHaveAtMostTwoDecimalsWithoutLocale() {
        XCTAssertEqual(SVGText.number(3.14159), "3.14")
        XCTAssertEqual(SVGText.number(2.5), "2.5")
        XCTAssertEqual(SVGText.number(3.0), "3")
        XCTAssertEqual(SVGText.number(-0.001), "0")
        XCTAssertEqual(SVGText.number(-12.3456), "-12.35")
        XCTAssertEqual(SVGText.number(1_234_567.891), "1234567.89")
        XCTAssertEqual(SVGText.number(0.125, decimals: 3), "0.125")
        // Every number in the document: no exponent, no comma, at most two decimals.
        let svg = Self.accuracyChart().svg()
        let numbers = try! NSRegularExpression(pattern: "-?[0-9]+(\\.[0-9]+)?")
        for match in numbers.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
            let text = (svg as NSString).substring(with: match.range)
            if let dot = text.firstIndex(of: ".") { XCTAssertLessThanOrEqual(text[dot...].count - 1, 2, text) }
        }
    }

    func testErrorBarIsClampedToThePlotAreaWithCapsOnlyInside() {
        // x domain: 1 ± 0.5 padded 5 % -> the point sits at mid-width 140; y 95 ± 10 in 0...100 runs from
        // 105 (clamped to the top edge, pixel 0, no cap) down to 85 (pixel (1 - 0.85) * 200 = 30, capped).
        let chart = Chart(title: "", panels: [ChartPanel(title: "", series: [
            ChartSeries(label: "s", points: [ChartPoint(x: 1, y: 95, error: 10)]),
        ])], xAxis: ChartAxis(title: "x"), yAxis: ChartAxis(title: "y", range: 0...100))
        XCTAssertTrue(chart.svg().contains("<path d=\"M140 0 V30 M136 30 H144\" stroke=\"#0072B2\""))
    }

    func testSinglePointSeriesDrawsOnlyItsMarker() {
        let chart = Chart(title: "", panels: [ChartPanel(title: "", series: [
            ChartSeries(label: "alone", points: [ChartPoint(x: 4, y: 2)]),
        ])], xAxis: ChartAxis(title: "x", scale: .log2), yAxis: ChartAxis(title: "y"))
        let svg = chart.svg()
        XCTAssertEqual(count("<circle", in: svg), 1 + 1, "the point + the legend marker")
        XCTAssertFalse(svg.contains("fill=\"none\" stroke=\"#0072B2\" stroke-width=\"1.8\""), "no line path")
    }

    func testReferenceLineIsDrawnInEveryPanelOnlyWhenInRange() {
        var chart = Self.accuracyChart()
        chart.referenceLines.append(ChartReferenceLine(y: 150, label: "unreachable"))
        let svg = chart.svg()
        XCTAssertEqual(count("stroke-dasharray=\"5 4\"", in: svg), 3)
        XCTAssertEqual(count(">chance</text>", in: svg), 3)
        XCTAssertFalse(svg.contains("unreachable"))
        // y = 33.33 on 0...100 is pixel (1 - 0.3333) * 200 = 133.33 inside each panel.
        XCTAssertTrue(svg.contains("<line x1=\"0\" y1=\"133.33\" x2=\"280\" y2=\"133.33\" stroke=\"#777777\""))
    }

    func testPanelsFillAGridOfAtMostThreeColumns() {
        let expected: [Int: (columns: Int, rows: Int)] = [1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 5: (3, 2),
                                                            7: (3, 3)]
        for (panels, grid) in expected.sorted(by: { $0.key < $1.key }) {
            var chart = Self.accuracyChart()
            chart.panels = Array(repeating: chart.panels[0], count: panels)
            let renderer = SVGChartRenderer(chart: chart)
            XCTAssertEqual(renderer.columns, grid.columns, "\(panels) panels")
            XCTAssertEqual(renderer.rows, grid.rows, "\(panels) panels")
        }
    }

    func testFontsAreAtLeastElevenPixels() {
        let svg = Self.accuracyChart().svg()
        let sizes = try! NSRegularExpression(pattern: "font-size=\"([0-9.]+)\"")
        let matches = sizes.matches(in: svg, range: NSRange(svg.startIndex..., in: svg))
        XCTAssertGreaterThan(matches.count, 10)
        for match in matches {
            XCTAssertGreaterThanOrEqual(Double((svg as NSString).substring(with: match.range(at: 1)))!, 11)
        }
    }

    func testLongLegendMovesRightOfTheGrid() {
        let labels = (0..<7).map { "series number \($0)" }
        let series = labels.map { ChartSeries(label: $0, points: [ChartPoint(x: 1, y: 1), ChartPoint(x: 2, y: 2)]) }
        let chart = Chart(title: "t", panels: [ChartPanel(title: "p", series: series)],
                          xAxis: ChartAxis(title: "x"), yAxis: ChartAxis(title: "y"))
        let renderer = SVGChartRenderer(chart: chart)
        let gridRight = renderer.plotLeft + SVGChartRenderer.plotWidth
        XCTAssertEqual(renderer.legendEntries.count, 7)
        XCTAssertTrue(renderer.legendEntries.allSatisfy { $0.left > gridRight }, "legend right of the plot")
        XCTAssertEqual(Set(renderer.legendEntries.map(\.middle)).count, 7, "one entry per row")
    }
}

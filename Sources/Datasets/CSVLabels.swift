/// The rules on the classes of a CSV file, checked once every row is read (see
/// ``loadCSVImages(path:labelColumn:shape:scale:header:warn:)``):
/// - the labels are the classes `0 ..< K`, `K = max label + 1`, each with at least one sample:
///   labels that start at 1, a stray label above the others (a `7` in a 3-class file) or a
///   numeric header read as data are refused, at the first label above the first missing class,
///   with the labels found (the model would get K outputs, some for classes that do not exist);
/// - a class with fewer than 1/20 of the median class's samples (1 sample against hundreds) is a
///   warning at its first sample: the stratified split may leave it out of a split.
extension CSVImageReader {
    /// A class is rare when its count times this is below the median count.
    static let rareClassFactor = 20

    /// Refuses labels that are not `0 ..< K` with a sample each; `header` says whether a first
    /// numeric line may have been read as data (then the error asks whether it is a header).
    func checkClassNumbering(header: CSVHeader) throws {
        guard let layout, let largest = labels.max() else { return }
        let counts = classCounts(upTo: Int(largest))
        let missing = counts.indices.filter { counts[$0] == 0 }
        guard let firstMissing = missing.first,
              let row = labels.firstIndex(where: { Int($0) > firstMissing }) else { return }
        let (start, end) = cell(layout.labelIndex, rowRanges[row].lowerBound, rowRanges[row].upperBound)
        let found = counts.indices.filter { counts[$0] > 0 }
        var message = "label '\(text(start, end))' \(labelWhere(layout.labelIndex)) leaves "
            + Self.classList(missing) + " without a sample: labels found: " + Self.labelList(found)
            + "; classes must be numbered 0..K-1"
        // A numeric header read as data: the first row, its label alone in its class, data after it.
        if row == 0 && !skippedHeader && header != .present && counts[Int(labels[row])] == 1 && labels.count > 1 {
            message += "; is line \(rowLines[row]) a header? (header=yes)"
        }
        throw DatasetError(path: path, line: rowLines[row], column: start - rowRanges[row].lowerBound + 1,
                           message: message)
    }

    /// A warning at the first sample of every class with fewer than 1/``rareClassFactor`` of the
    /// median class's samples (the median of an even number of classes: the mean of the middle two).
    func rareClassWarnings() -> [DatasetWarning] {
        guard let layout, let largest = labels.max(), largest > 0 else { return [] }
        let counts = classCounts(upTo: Int(largest))
        let sorted = counts.sorted()
        let median = sorted.count % 2 == 1 ? Double(sorted[sorted.count / 2])
            : Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let medianText = median == median.rounded() ? String(Int(median)) : String(median)
        return counts.indices.filter { Double(counts[$0] * Self.rareClassFactor) < median }.map { rare in
            let row = labels.firstIndex(of: Int32(rare))!
            let (start, _) = cell(layout.labelIndex, rowRanges[row].lowerBound, rowRanges[row].upperBound)
            let samples = counts[rare] == 1 ? "1 sample (this line)" : "\(counts[rare]) samples (the first on this line)"
            return DatasetWarning(path: path, line: rowLines[row], column: start - rowRanges[row].lowerBound + 1,
                                  message: "class \(rare) has \(samples) while the median class has \(medianText);"
                                      + " the stratified split may leave it out of the training or the test split")
        }
    }

    /// Samples per class `0...largest`.
    private func classCounts(upTo largest: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: largest + 1)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// `class 0`, `classes 3, 4, 5, 6`, `classes 3...64` (a run of more than six), or the first six
    /// and how many more.
    static func classList(_ classes: [Int]) -> String {
        if classes.count == 1 { return "class \(classes[0])" }
        if classes.count <= 6 { return "classes " + classes.map(String.init).joined(separator: ", ") }
        if classes.last! - classes.first! + 1 == classes.count { return "classes \(classes.first!)...\(classes.last!)" }
        return "classes " + classes.prefix(6).map(String.init).joined(separator: ", ") + " and \(classes.count - 6) more"
    }

    /// The labels found: all of them up to twelve, else the first ten, `...`, the last and the count.
    static func labelList(_ labels: [Int]) -> String {
        if labels.count <= 12 { return labels.map(String.init).joined(separator: ", ") }
        return labels.prefix(10).map(String.init).joined(separator: ", ") + ", ..., \(labels.last!) (\(labels.count) labels)"
    }
}

import SpecFormat
/// Which column of an image CSV holds the class label; the other columns are pixels, in order.
public enum LabelColumn: Sendable, Equatable {
    /// Column 0.
    case first
    /// The last column (as in mnist_5k.csv.gz).
    case last
    /// Column `k`, counting from 0.
    case index(Int)

    /// As a spec writes it after `label_column=`: `first`, `last` or the 0-based index.
    var specText: String {
        switch self {
        case .first: return "first"
        case .last: return "last"
        case .index(let k): return String(k)
        }
    }
}

/// Whether the first non-blank line of a CSV is a header (skipped) or data.
public enum CSVHeader: Sendable, Equatable {
    /// A header exactly when one of its cells is not a number (a numeric header needs `.present`).
    case auto
    /// Always skip the first non-blank line.
    case present
    /// The first line is data.
    case absent
}

/// Loads images from a CSV file, one image a row: pixel values and one label column.
///
/// - Format: cells separated by `,`, spaces and tabs around a cell ignored, `\n` or `\r\n`
///   line ends, blank lines skipped; gzip-compressed files are decompressed transparently.
///   Numbers are decimal, read by Swift's `Double(_:)` (independent of locale): optional sign,
///   digits, optional `.` and digits, optional exponent (`1`, `-2.5`, `3e-2`). `nan`, `inf`,
///   values that overflow to infinity and hexadecimal (`0x1p3`) are refused. No quoting. A first
///   line without any `,` but with a `;` or a tab is refused (a file in another separator, not a header).
/// - Pixels: `x = Float(cell) * scale` (a Float multiplication), the row's pixel columns in
///   order; with `shape` they fill `(C, H, W)` row-major, without it an image is `(1, 1, k)`
///   for `k` pixel columns.
/// - Labels: integers in `0 ..< ImageDataset.maxClassCount`; `classCount = max label + 1`, and
///   the classes must be numbered `0 ..< classCount` with a sample each (CSVLabels.swift). A
///   class with fewer than 1/20 of the median class's samples is a ``DatasetWarning`` passed to `warn`.
/// - Name: the file's base name without `.gz` and `.csv`.
///
/// Errors (``DatasetError``, with line and column): an empty file or one without data rows,
/// a file separated by `;` or tabs, a row whose column count differs from the first data row, a
/// cell that is not a finite decimal number (quoted), a label that is negative, not an integer or
/// too large (naming its column and asking whether the label is in another one), a label column
/// outside the row, a pixel count that does not match `shape`, and classes that do not start at 0
/// or skip one (at the first label above the first missing class, with the labels found).
public func loadCSVImages(path: String, labelColumn: LabelColumn = .last,
                          shape: (channels: Int, height: Int, width: Int)? = nil,
                          scale: Float = 1, header: CSVHeader = .auto,
                          warn: (DatasetWarning) -> Void = { _ in }) throws -> ImageDataset {
    let bytes = try Gzip.readMaybeGzipped(path: path)
    guard !bytes.isEmpty else { throw DatasetError(path: path, message: "file is empty") }
    if let shape, shape.channels <= 0 || shape.height <= 0 || shape.width <= 0 {
        throw DatasetError(path: path, message: "shape \(shape.channels)x\(shape.height)x\(shape.width) "
            + "must be positive in every dimension")
    }
    return try bytes.withUnsafeBufferPointer { buffer in
        var reader = CSVImageReader(path: path, bytes: buffer.baseAddress!, count: buffer.count,
                                    labelColumn: labelColumn, scale: scale)
        defer { reader.release() }
        try reader.read(header: header)
        guard let layout = reader.layout else {
            throw DatasetError(path: path, message: "no data rows")
        }
        let pixelCount = layout.columnCount - 1
        let (channels, height, width) = shape ?? (1, 1, pixelCount)
        guard channels * height * width == pixelCount else {
            throw DatasetError(path: path, line: layout.firstLine, message: "rows have \(pixelCount) pixel "
                + "values but shape \(channels)x\(height)x\(width) needs \(channels * height * width)")
        }
        try reader.checkClassNumbering(header: header)
        reader.rareClassWarnings().forEach(warn)
        let classCount = Int(reader.labels.max()!) + 1
        return try ImageDataset(name: ImageDataset.name(fromPath: path, extensions: ["gz", "csv"]),
                                channels: channels, height: height, width: width,
                                images: reader.images, labels: reader.labels, classCount: classCount)
    }
}

/// The line-by-line state of ``loadCSVImages(path:labelColumn:shape:scale:header:)``.
///
/// The per-cell work uses raw buffers only (`row`, `pixels`), so that loading stays fast in
/// debug builds too; cell positions are recomputed only to report an error.
struct CSVImageReader {
    let path: String
    let bytes: UnsafePointer<UInt8>
    let count: Int
    let labelColumn: LabelColumn
    let scale: Float
    /// Column count, label column index and line of the first data row, once seen.
    private(set) var layout: (columnCount: Int, labelIndex: Int, firstLine: Int)?
    private(set) var labels: [Int32] = []
    /// Per data row: its line number and the byte range of its content, to locate a label afterwards.
    private(set) var rowLines: [Int] = []
    private(set) var rowRanges: [Range<Int>] = []
    /// Whether a header line was skipped.
    private(set) var skippedHeader = false
    /// The parsed cells of the current row.
    private var row: UnsafeMutablePointer<Double>, rowCapacity = 1024, rowCount = 0
    /// The pixels of the rows read so far.
    private var pixels: UnsafeMutablePointer<Float>, pixelsCapacity = 1 << 16, pixelCount = 0

    init(path: String, bytes: UnsafePointer<UInt8>, count: Int, labelColumn: LabelColumn, scale: Float) {
        self.path = path
        self.bytes = bytes
        self.count = count
        self.labelColumn = labelColumn
        self.scale = scale
        row = .allocate(capacity: rowCapacity)
        pixels = .allocate(capacity: pixelsCapacity)
    }

    /// Frees the buffers; call once.
    func release() {
        row.deallocate()
        pixels.deallocate()
    }

    /// The pixels read, as one array.
    var images: [Float] { Array(UnsafeBufferPointer(start: pixels, count: pixelCount)) }

    /// Reads every line, appending each data row to `pixels` and `labels`.
    mutating func read(header: CSVHeader) throws {
        var lineStart = 0, line = 1, headerPending = header != .absent, firstContent = true
        let newline = ASCII.newline
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != newline { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == ASCII.carriageReturn { contentEnd -= 1 }
            if !isBlank(lineStart, contentEnd) {
                if firstContent {
                    try checkSeparator(line: line, lineStart, contentEnd)
                    firstContent = false
                }
                let parsedAll = splitAndParse(lineStart, contentEnd)
                if headerPending && (header == .present || !parsedAll) {
                    headerPending = false
                    skippedHeader = true
                } else if !parsedAll {
                    let (start, end) = cell(rowCount, lineStart, contentEnd)
                    throw DatasetError(path: path, line: line, column: start - lineStart + 1,
                                       message: "cell '\(text(start, end))' (column \(rowCount + 1)) "
                                           + refusal(start, end))
                } else {
                    headerPending = false
                    try appendRow(line: line, lineStart: lineStart, lineEnd: contentEnd)
                }
            }
            lineStart = lineEnd + 1
            line += 1
        }
    }

    /// Refuses a line without any `,` that has a `;` or a tab, at the first of them: a file in another
    /// separator, whose first line would otherwise be taken for a header and its second for a bad row.
    private func checkSeparator(line: Int, _ start: Int, _ end: Int) throws {
        var i = start
        while i < end && bytes[i] != ASCII.comma { i += 1 }
        guard i == end else { return }
        for j in start..<end where bytes[j] == ASCII.semicolon || bytes[j] == ASCII.tab {
            let what = bytes[j] == ASCII.tab ? "a tab" : "';'"
            throw DatasetError(path: path, line: line, column: j - start + 1,
                               message: "line \(line) has no ',' but has \(what): bnlab reads comma-separated values")
        }
    }

    /// Splits `bytes[start..<end]` at commas and parses the cells into `row[0..<rowCount]`;
    /// false when a cell is not a number, which is then cell `rowCount` (parsing stops there).
    private mutating func splitAndParse(_ start: Int, _ end: Int) -> Bool {
        if end - start + 1 > rowCapacity {  // a row has at most (length + 1) cells
            row.deallocate()
            rowCapacity = max(end - start + 1, 2 * rowCapacity)
            row = .allocate(capacity: rowCapacity)
        }
        rowCount = 0
        let comma = ASCII.comma  // a local constant: no global accessor per byte in debug builds
        var cellStart = start
        while true {
            var cellEnd = cellStart
            while cellEnd < end && bytes[cellEnd] != comma { cellEnd += 1 }
            guard let value = number(cellStart, cellEnd) else { return false }
            row[rowCount] = value
            rowCount += 1
            if cellEnd == end { return true }
            cellStart = cellEnd + 1
        }
    }

    /// The number that `bytes[start..<end]` holds between spaces and tabs, or nil when it holds none.
    ///
    /// `Double(_:)` reads it, correctly rounded. It also reads `nan`, `inf`, `infinity` and
    /// hexadecimal (`0x10`, `0x1p3`), which an image CSV has no business holding: those are
    /// refused here, with decimal values that overflow to infinity (`1e999`).
    private func number(_ start: Int, _ end: Int) -> Double? {
        let (start, end) = trimmed(start, end)
        guard let value = Double(text(start, end)), value.isFinite, !isHexadecimal(start, end) else { return nil }
        return value
    }

    /// Why ``number(_:_:)`` refused `bytes[start..<end]`, for the error message.
    private func refusal(_ start: Int, _ end: Int) -> String {
        let (start, end) = trimmed(start, end)
        if let value = Double(text(start, end)), value.isFinite {
            return "is hexadecimal; only decimal numbers are accepted"
        }
        return "is not a finite number"
    }

    /// `start..<end` without the spaces and tabs at either end.
    private func trimmed(_ start: Int, _ end: Int) -> (start: Int, end: Int) {
        var start = start, end = end
        while start < end && (bytes[start] == ASCII.space || bytes[start] == ASCII.tab) { start += 1 }
        while end > start && (bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab) { end -= 1 }
        return (start, end)
    }

    /// Whether `bytes[start..<end]` starts `0x` or `0X` after an optional sign.
    private func isHexadecimal(_ start: Int, _ end: Int) -> Bool {
        var i = start
        if i < end && (bytes[i] == ASCII.plus || bytes[i] == ASCII.minus) { i += 1 }
        return end - i >= 2 && bytes[i] == ASCII.zero && (bytes[i + 1] | 0x20) == ASCII.lowercaseX
    }

    /// Checks the parsed row against the first data row and appends its pixels and label.
    private mutating func appendRow(line: Int, lineStart: Int, lineEnd: Int) throws {
        let layout = try self.layout ?? firstLayout(line: line)
        self.layout = layout
        guard rowCount == layout.columnCount else {
            throw DatasetError(path: path, line: line, message: "row has \(rowCount) columns, expected "
                + "\(layout.columnCount) (as in line \(layout.firstLine))")
        }
        let label = row[layout.labelIndex]
        guard Self.isLabel(label) else {
            let (start, end) = cell(layout.labelIndex, lineStart, lineEnd)
            let problem = label >= 0 && label == label.rounded()
                ? "is out of range: at most \(ImageDataset.maxClassCount) classes (labels 0...\(ImageDataset.maxClassCount - 1))"
                : "is not a non-negative integer"
            throw DatasetError(path: path, line: line, column: start - lineStart + 1,
                               message: "label '\(text(start, end))' \(labelWhere(layout.labelIndex)) \(problem);"
                                   + " is the label in another column? \(otherLabelColumn(layout.labelIndex))")
        }
        labels.append(Int32(label))
        rowLines.append(line)
        rowRanges.append(lineStart..<lineEnd)
        if pixelCount + rowCount > pixelsCapacity {
            let larger = UnsafeMutablePointer<Float>.allocate(capacity: 2 * (pixelCount + rowCount))
            larger.moveInitialize(from: pixels, count: pixelCount)
            pixels.deallocate()
            pixels = larger
            pixelsCapacity = 2 * (pixelCount + rowCount)
        }
        for column in 0..<rowCount where column != layout.labelIndex {
            pixels[pixelCount] = Float(row[column]) * scale
            pixelCount += 1
        }
    }

    /// The layout fixed by the first data row (at `line`).
    private func firstLayout(line: Int) throws -> (columnCount: Int, labelIndex: Int, firstLine: Int) {
        guard rowCount >= 2 else {
            throw DatasetError(path: path, line: line, message: "a row needs a label and at least one pixel, "
                + "found \(rowCount) column")
        }
        let labelIndex: Int
        switch labelColumn {
        case .first: labelIndex = 0
        case .last: labelIndex = rowCount - 1
        case .index(let k):
            guard k >= 0 && k < rowCount else {
                throw DatasetError(path: path, line: line, message: "label column \(k) is outside the "
                    + "\(rowCount) columns 0..<\(rowCount)")
            }
            labelIndex = k
        }
        return (rowCount, labelIndex, line)
    }

    /// Whether a parsed cell is a valid label: an integer in `0 ..< ImageDataset.maxClassCount`.
    static func isLabel(_ value: Double) -> Bool {
        value >= 0 && value == value.rounded() && value < Double(ImageDataset.maxClassCount)
    }

    /// `in column 17 (label_column last)`: the 1-based column of the label cell and the setting that chose it.
    func labelWhere(_ labelIndex: Int) -> String { "in column \(labelIndex + 1) (label_column \(labelColumn.specText))" }

    /// The other end of the current row when its cell would be a valid label, as a spec writes it:
    /// `(label_column last)`; else the choices.
    private func otherLabelColumn(_ labelIndex: Int) -> String {
        let ends: [(index: Int, name: String)] = [(0, "first"), (rowCount - 1, "last")]
        if let end = ends.first(where: { $0.index != labelIndex && Self.isLabel(row[$0.index]) }) {
            return "(label_column \(end.name))"
        }
        return "(label_column first, last or a 0-based column index)"
    }

    /// Byte range of cell `index` (0-based) of the line `bytes[lineStart..<lineEnd]`.
    func cell(_ index: Int, _ lineStart: Int, _ lineEnd: Int) -> (start: Int, end: Int) {
        var start = lineStart
        for _ in 0..<index {
            while bytes[start] != ASCII.comma { start += 1 }
            start += 1
        }
        var end = start
        while end < lineEnd && bytes[end] != ASCII.comma { end += 1 }
        return (start, end)
    }

    private func isBlank(_ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end && (bytes[i] == ASCII.space || bytes[i] == ASCII.tab) { i += 1 }
        return i == end
    }

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes + start, count: end - start), as: UTF8.self)
    }
}

/// ASCII codes used by the CSV reader, as plain constants (`UInt8(ascii:)` is a function
/// call per byte in debug builds).
enum ASCII {
    static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
    static let plus: UInt8 = 0x2B, comma: UInt8 = 0x2C, minus: UInt8 = 0x2D
    static let zero: UInt8 = 0x30, lowercaseX: UInt8 = 0x78, semicolon: UInt8 = 0x3B
}

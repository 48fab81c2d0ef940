import Foundation

/// Renders an `EvalReport` as JSON, a markdown summary and an SVG chart.
public enum ReportFormat {
    /// Pretty, key-sorted JSON (absent values omitted; non-finite numbers as strings).
    public static func json(_ r: EvalReport) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(r)
    }

    public static func percent(_ v: Double?) -> String {
        guard let v else { return "–" }
        return String(format: "%.2f %%", 100 * v)
    }

    public static func number(_ v: Double?, _ format: String = "%.4f") -> String {
        guard let v else { return "–" }
        return String(format: format, v)
    }

    static func ms(_ v: Double) -> String { String(format: "%.2f ms", 1000 * v) }

    /// Escapes a markdown table cell.
    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// A summary table, a per-domain table and, for short streams (≤ `maxWindowRows`
    /// windows), a per-window table.
    public static func markdown(_ r: EvalReport, title: String = "ttad eval", maxWindowRows: Int = 60) -> String {
        var o = "# \(title)\n\n"
        o += "| metric | value |\n|---|---|\n"
        o += "| predictions | \(r.predictions) |\n"
        o += "| errors | \(r.errors) |\n"
        o += "| known-class samples | \(r.known) |\n"
        o += "| online accuracy (known classes) | \(percent(r.accuracy)) |\n"
        o += "| mean entropy (nats) | \(number(r.meanEntropy)) |\n"
        o += "| expected calibration error (15 bins) | \(number(r.ece)) |\n"
        o += "| unknown-class samples (label ≥ \(r.knownClasses)) | \(r.outliers.outlierSamples) |\n"
        o += "| outlier AUROC | \(number(r.outliers.auroc)) |\n"
        o += "| known accuracy, accepted (H-score term) | \(percent(r.outliers.knownAcceptedAccuracy)) |\n"
        o += "| outlier rejection accuracy | \(percent(r.outliers.rejectionAccuracy)) |\n"
        o += "| H-score | \(percent(r.outliers.hScore)) |\n"
        o += "| false rejection rate (known flagged) | \(percent(r.outliers.falseRejectionRate)) |\n"
        if let l = r.latency {
            o += "| latency p50 / p90 / p99 | \(ms(l.p50)) / \(ms(l.p90)) / \(ms(l.p99)) |\n"
            o += "| latency mean / max | \(ms(l.mean)) / \(ms(l.max)) |\n"
        }
        o += "| samples/s | \(number(r.samplesPerSecond, "%.1f")) |\n"
        o += "| duration | \(String(format: "%.1f s", r.durationSeconds)) |\n"
        if r.unlabeled > 0 { o += "| unlabeled predictions | \(r.unlabeled) |\n" }
        if r.unparsedIDs > 0 { o += "| ids not `<domain>\\|<position>` | \(r.unparsedIDs) |\n" }
        if let worst = r.windows.filter({ $0.accuracy != nil }).min(by: { $0.accuracy! < $1.accuracy! }) {
            o += "| worst window (\(r.window) samples) | \(percent(worst.accuracy)) at \(worst.start)… |\n"
        }
        if let last = r.windows.last(where: { $0.accuracy != nil }) {
            o += "| last window | \(percent(last.accuracy)) at \(last.start)… |\n"
        }

        if !r.errorsByReason.isEmpty {
            o += "\n## Errors\n\n| reason | count |\n|---|---:|\n"
            for (reason, n) in r.errorsByReason.sorted(by: { $0.key < $1.key }) { o += "| \(cell(reason)) | \(n) |\n" }
        }

        o += "\n## Per domain\n\n| domain | first position | samples | known | accuracy | unknown-class | mean entropy | ECE |\n"
        o += "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for d in r.domains {
            o += "| \(cell(d.domain)) | \(d.firstPosition) | \(d.samples) | \(d.known) | \(percent(d.accuracy)) | \(d.outliers) | \(number(d.meanEntropy)) | \(number(d.ece)) |\n"
        }

        if !r.streams.isEmpty {
            o += "\n## Per stream\n\n| stream | samples | known | accuracy |\n|---|---:|---:|---:|\n"
            for st in r.streams { o += "| \(cell(st.stream)) | \(st.samples) | \(st.known) | \(percent(st.accuracy)) |\n" }
        }

        if r.windows.count <= maxWindowRows {
            o += "\n## Per window of \(r.window)\n\n| window | positions | domain | known | accuracy | mean entropy | flagged outliers |\n"
            o += "|---:|---|---|---:|---:|---:|---:|\n"
            for w in r.windows {
                o += "| \(w.index) | \(w.start)…\(w.end - 1) | \(cell(w.domain ?? "")) | \(w.known) | \(percent(w.accuracy)) | \(number(w.meanEntropy)) | \(percent(w.outlierFlagRate)) |\n"
            }
        } else {
            o += "\n\(r.windows.count) windows of \(r.window) samples: see the JSON report for the per-window table.\n"
        }
        return o
    }

    /// Escapes text for SVG.
    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A line chart over the stream: windowed accuracy (left axis, 0–100 %), windowed mean
    /// entropy (right axis, 0 to ln(known classes) or the observed maximum) and the flagged
    /// outlier rate (left axis), with the domain boundaries — the drift — as dashed lines.
    public static func svg(_ r: EvalReport, title: String = "ttad eval", width: Int = 960, height: Int = 360) -> String {
        let left = 56.0, right = 56.0, top = 36.0, bottom = 44.0
        let w = Double(width), h = Double(height)
        let pw = w - left - right, ph = h - top - bottom
        let endPosition = Swift.max(r.windows.last?.end ?? 1, 1)
        func x(_ position: Double) -> Double { left + pw * position / Double(endPosition) }
        func yFrac(_ f: Double) -> Double { top + ph * (1 - Swift.min(Swift.max(f, 0), 1)) }
        let observedMax = r.windows.compactMap(\.meanEntropy).filter(\.isFinite).max() ?? 0
        let entropyMax = Swift.max(log(Double(r.knownClasses)), observedMax, 1e-9)

        var o = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="20" font-size="14">\(xml(title)) — accuracy \(xml(percent(r.accuracy))), \(r.predictions) predictions</text>

        """
        // Grid and axes.
        for i in 0...4 {
            let f = Double(i) / 4
            let y = yFrac(f)
            o += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + pw)\" y2=\"\(y)\" stroke=\"#ddd\"/>\n"
            o += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(f * 100))%</text>\n"
            o += "<text x=\"\(left + pw + 6)\" y=\"\(y + 4)\">\(String(format: "%.2f", f * entropyMax))</text>\n"
        }
        o += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#888\"/>\n"
        o += "<text x=\"\(left + pw / 2)\" y=\"\(h - 8)\" text-anchor=\"middle\">stream position (windows of \(r.window))</text>\n"
        o += "<text x=\"\(left + pw)\" y=\"\(h - 8)\" text-anchor=\"end\">\(endPosition)</text>\n"
        o += "<text x=\"\(left)\" y=\"\(h - 8)\">0</text>\n"

        // Domain boundaries (first appearance of each domain after the first).
        for d in r.domains.dropFirst() where d.domain != "?" {
            let xx = x(Double(d.firstPosition))
            o += "<line x1=\"\(xx)\" y1=\"\(top)\" x2=\"\(xx)\" y2=\"\(top + ph)\" stroke=\"#999\" stroke-dasharray=\"3,3\"/>\n"
        }
        for d in r.domains where d.domain != "?" {
            let xx = x(Double(d.firstPosition)) + 3
            o += "<text x=\"\(xx)\" y=\"\(top + 10)\" fill=\"#666\" font-size=\"9\" transform=\"rotate(90 \(xx) \(top + 10))\">\(xml(d.domain))</text>\n"
        }

        func polyline(_ values: [(Double, Double)], color: String, dash: String? = nil) -> String {
            guard !values.isEmpty else { return "" }
            let pts = values.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") points=\"\(pts)\"/>\n"
        }
        func mid(_ wnd: WindowStat) -> Double { x(Double(wnd.start) + Double(wnd.end - wnd.start) / 2) }
        o += polyline(r.windows.compactMap { wd in wd.accuracy.map { (mid(wd), yFrac($0)) } }, color: "#1f77b4")
        o += polyline(r.windows.compactMap { wd in wd.meanEntropy.flatMap { $0.isFinite ? (mid(wd), yFrac($0 / entropyMax)) : nil } },
                      color: "#d62728")
        if r.windows.contains(where: { ($0.outlierFlagRate ?? 0) > 0 }) {
            o += polyline(r.windows.compactMap { wd in wd.outlierFlagRate.map { (mid(wd), yFrac($0)) } }, color: "#2ca02c", dash: "4,2")
        }
        // Legend.
        let ly = h - 26
        o += "<line x1=\"\(left)\" y1=\"\(ly)\" x2=\"\(left + 20)\" y2=\"\(ly)\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"\(left + 24)\" y=\"\(ly + 4)\">accuracy (left)</text>\n"
        o += "<line x1=\"\(left + 130)\" y1=\"\(ly)\" x2=\"\(left + 150)\" y2=\"\(ly)\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"\(left + 154)\" y=\"\(ly + 4)\">mean entropy, nats (right)</text>\n"
        o += "<line x1=\"\(left + 310)\" y1=\"\(ly)\" x2=\"\(left + 330)\" y2=\"\(ly)\" stroke=\"#2ca02c\" stroke-width=\"2\" stroke-dasharray=\"4,2\"/><text x=\"\(left + 334)\" y=\"\(ly + 4)\">flagged outliers (left)</text>\n"
        o += "<line x1=\"\(left + 470)\" y1=\"\(ly)\" x2=\"\(left + 490)\" y2=\"\(ly)\" stroke=\"#999\" stroke-dasharray=\"3,3\"/><text x=\"\(left + 494)\" y=\"\(ly + 4)\">domain change</text>\n"
        o += "</svg>\n"
        return o
    }
}

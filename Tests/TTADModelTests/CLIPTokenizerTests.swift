import Foundation
import XCTest
@testable import TTADModel

/// CLIP tokenizer against fixtures made by tools/make_tokenizer_fixtures.py with HF transformers'
/// slow CLIPTokenizer + ftfy (see Fixtures/clip-tokenizer/manifest.json).
final class CLIPTokenizerTests: TemporaryDirectoryTestCase {
    struct Case {
        var text: String
        var ids: [Int32]
        var ids77: [Int32]
        var swiftIds: [Int32]?
    }

    static func fixture(_ name: String) -> String { Fixtures.path("clip-tokenizer/\(name)") }

    /// Built once for the class: loading 49k vocabulary entries and merges is the slow part.
    nonisolated(unsafe) static var shared: Result<CLIPTokenizer, Error>?

    func tokenizer() throws -> CLIPTokenizer {
        if Self.shared == nil {
            Self.shared = Result { try CLIPTokenizer(vocabPath: Self.fixture("vocab.json"),
                                                     mergesPath: Self.fixture("merges.txt")) }
        }
        return try Self.shared!.get()
    }

    static func cases(_ name: String) throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        func ids(_ any: Any?) throws -> [Int32] { try XCTUnwrap(any as? [NSNumber]).map(\.int32Value) }
        return try list.map { e in
            Case(text: try XCTUnwrap(e["text"] as? String), ids: try ids(e["ids"]), ids77: try ids(e["ids_77"]),
                 swiftIds: e["swift_ids"] == nil ? nil : try ids(e["swift_ids"]))
        }
    }

    // MARK: Reference fixtures

    func testEveryFixtureStringMatchesHuggingFace() throws {
        let tok = try tokenizer()
        let cases = try Self.cases("tokens.json")
        XCTAssertGreaterThanOrEqual(cases.count, 250)
        XCTAssertTrue(cases.contains { $0.ids.count > 77 }, "fixtures need texts longer than the context")
        var failures: [String] = []
        for c in cases {
            let full = tok.encode(c.text)
            let cut = tok.encode(c.text, contextLength: 77)
            if full != c.ids || cut != c.ids77 {
                failures.append("\(c.text.debugDescription): got \(full) expected \(c.ids)"
                                + (cut != c.ids77 ? " (ids_77 differ: \(cut) vs \(c.ids77))" : ""))
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n" + failures.joined(separator: "\n"))
    }

    /// Strings whose HF ids depend on ftfy's mojibake repair (fix_encoding), which is not
    /// implemented: the tokenizer gives what HF gives with fix_encoding=False.
    func testKnownDifferencesNeedFtfyMojibakeRepair() throws {
        let tok = try tokenizer()
        let cases = try Self.cases("known_differences.json")
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let expected = try XCTUnwrap(c.swiftIds)
            XCTAssertEqual(tok.encode(c.text), expected, c.text.debugDescription)
            XCTAssertNotEqual(tok.encode(c.text), c.ids, c.text.debugDescription)
        }
    }

    func testWellKnownIdsAndSpecialTokens() throws {
        let tok = try tokenizer()
        XCTAssertEqual(tok.startToken, 49406)
        XCTAssertEqual(tok.endToken, 49407)
        XCTAssertEqual(tok.vocabularySize, 49408)
        XCTAssertEqual(tok.encode("a photo of a cat"), [49406, 320, 1125, 539, 320, 2368, 49407])
        XCTAssertEqual(tok.encode(""), [49406, 49407])
        XCTAssertEqual(tok.encode("<|endoftext|>"), [49406, 49407, 49407])
    }

    func testTruncationKeepsEndToken() throws {
        let tok = try tokenizer()
        let text = String(repeating: "cat ", count: 100)
        let full = tok.encode(text)
        XCTAssertEqual(full.count, 102)
        let cut = tok.encode(text, contextLength: 77)
        XCTAssertEqual(cut.count, 77)
        XCTAssertEqual(cut.first, tok.startToken)
        XCTAssertEqual(cut.last, tok.endToken)
        XCTAssertEqual(Array(cut.dropLast()), Array(full.prefix(76)))
        XCTAssertEqual(tok.encode("a cat", contextLength: 77), tok.encode("a cat"))   // no padding
        XCTAssertEqual(tok.encode(text, contextLength: 2), [tok.startToken, tok.endToken])
        XCTAssertEqual(tok.encode(text, contextLength: 1), [tok.startToken])
        XCTAssertEqual(tok.encode(text, contextLength: 0), [])
    }

    // MARK: Decoding

    func testDecodeRoundTripsSimpleASCII() throws {
        let tok = try tokenizer()
        for text in ["a photo of a cat", "the quick brown fox jumps over the lazy dog", "hello world",
                     "antidisestablishmentarianism", "a photo of a pickup truck"] {
            XCTAssertEqual(tok.decode(tok.encode(text)), text)
        }
        XCTAssertEqual(tok.decode(tok.encode("  A   Photo\tOF a CAT ")), "a photo of a cat")
        XCTAssertEqual(tok.decode(tok.encode("Hello, World!")), "hello , world !")
        XCTAssertEqual(tok.decode(tok.encode("café 日本")), "café 日本")
        XCTAssertEqual(tok.decode([]), "")
        XCTAssertEqual(tok.decode([tok.startToken, tok.endToken, 999_999, -1]), "")
    }

    // MARK: Pieces

    func testPreTokenizerFollowsCLIPPattern() {
        func split(_ s: String) -> [String] {
            let scalars = Array(s.unicodeScalars)
            return CLIPPreTokenizer.split(scalars).map { String(String.UnicodeScalarView(scalars[$0.range])) }
        }
        XCTAssertEqual(split("it's a cat's toy"), ["it", "'s", "a", "cat", "'s", "toy"])
        XCTAssertEqual(split("we'll've 're"), ["we", "'ll", "'ve", "'re"])
        XCTAssertEqual(split("2024!?"), ["2", "0", "2", "4", "!?"])
        XCTAssertEqual(split("!'s"), ["!'", "s"])
        XCTAssertEqual(split("'ſ"), ["'ſ"])
        XCTAssertEqual(split("a\u{345}b"), ["a", "b"])
        XCTAssertEqual(split("x<|endoftext|>y"), ["x", "<|endoftext|>", "y"])
        XCTAssertEqual(split("x<|endoftex"), ["x", "<|", "endoftex"])
        XCTAssertEqual(split("<|endoftext|>y").first, "<|endoftext|>")
        XCTAssertEqual(CLIPPreTokenizer.split(Array("<|endoftext|>".unicodeScalars)).map(\.kind), [.endOfText])
        XCTAssertEqual(CLIPPreTokenizer.split(Array("<|ſtartoftext|>".unicodeScalars)).map(\.kind), [.word])
        XCTAssertEqual(split("日本語 😀👍"), ["日本語", "😀👍"])
    }

    func testTextCleanup() {
        func clean(_ s: String) -> String {
            String(String.UnicodeScalarView(CLIPTextCleanup.clean(Array(s.unicodeScalars)[...])))
        }
        XCTAssertEqual(clean("  Tom &amp;amp; JERRY\t\n"), "tom & jerry")
        XCTAssertEqual(clean("<b>&amp;</b>"), "<b>&amp;</b>")          // "<" turns HTML unescaping off
        XCTAssertEqual(clean("&amp;\n<\n&amp;"), "& < &amp;")           // ... for later lines too
        XCTAssertEqual(clean("&#59; &#65; &semi;"), "&#59; a ;")
        XCTAssertEqual(clean("ΟΔΟΣ ΣΑΣ."), "οδος σας.")
        XCTAssertEqual(clean("ﬁsh ＬＯＵＤ it’s"), "fish loud it's")
        XCTAssertEqual(clean("cafe\u{301}"), "caf\u{e9}")
        XCTAssertEqual(clean("\u{E0057}\u{300}").unicodeScalars.map(\.value), [0xE0057, 0x300])   // not "ẁ"
        XCTAssertEqual(clean("\u{1100}\u{1161}\u{11A8}"), "\u{AC01}")
        XCTAssertEqual(clean("\u{1b}[36;44mblue\u{1b}[0m"), "blue")
    }

    func testToyModelMergesByRankAndMapsUnknownSymbolsToEnd() throws {
        // Byte symbols for "a", "b", "c" only; "ab" and "abc" are merges; "c" has no "c</w>".
        let vocab = ["a": 0, "b": 1, "c": 2, "a</w>": 3, "b</w>": 4, "ab": 5, "abc</w>": 6, "bc</w>": 7,
                     "<|startoftext|>": 8, "<|endoftext|>": 9]
        let vocabPath = path("vocab.json")
        try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: vocabPath))
        let merges = write("#version: 0.2\na b\nab c</w>\nb c</w>\n", to: "merges.txt")
        let tok = try CLIPTokenizer(vocabPath: vocabPath, mergesPath: merges)
        XCTAssertEqual(tok.encode("abc"), [8, 6, 9])      // a b c</w> -> ab c</w> -> abc</w>
        XCTAssertEqual(tok.encode("bc"), [8, 7, 9])
        XCTAssertEqual(tok.encode("c"), [8, 9, 9])        // "c</w>" is not in the vocabulary -> unknown
        XCTAssertEqual(tok.encode("ab ab"), [8, 0, 4, 0, 4, 9])   // (a, b</w>) is no merge
        XCTAssertEqual(tok.decode([5, 6]), "ababc")
    }

    // MARK: Errors

    private func assertFails(vocab: String, merges: String, _ expected: CLIPTokenizerError,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: merges), file: file, line: line) { error in
            XCTAssertEqual(error as? CLIPTokenizerError, expected, file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected.fileName), "error does not name the file: \(error)",
                          file: file, line: line)
        }
    }

    private func reason(_ error: Error) -> String {
        guard let e = error as? CLIPTokenizerError else { return "" }
        switch e {
        case .malformedVocab(_, let r), .unreadableFile(_, let r), .malformedMerges(_, _, let r): return r
        case .missingSpecialToken(_, let t): return t
        }
    }

    func testModelFolderInitReadsVocabAndMerges() throws {
        _ = write(#"{"a": 0, "a</w>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}"#, to: "vocab.json")
        _ = write("#version: 0.2\na a</w>\n", to: "merges.txt")
        let tok = try CLIPTokenizer(modelFolder: directory.path)
        XCTAssertEqual(tok.startToken, 2)
        XCTAssertEqual(tok.endToken, 3)
        XCTAssertEqual(tok.vocabularySize, 4)
        XCTAssertEqual(tok.encode("A  a"), [2, 1, 1, 3])
    }

    func testMissingFilesAreReported() throws {
        let goodVocab = write(#"{"a": 0, "a</w>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}"#, to: "vocab.json")
        let goodMerges = write("#version: 0.2\na a</w>\n", to: "merges.txt")
        XCTAssertNoThrow(try CLIPTokenizer(vocabPath: goodVocab, mergesPath: goodMerges))
        assertFails(vocab: path("absent.json"), merges: goodMerges,
                    .unreadableFile(file: path("absent.json"), reason: "no such file"))
        assertFails(vocab: goodVocab, merges: path("absent.txt"),
                    .unreadableFile(file: path("absent.txt"), reason: "no such file"))
        XCTAssertThrowsError(try CLIPTokenizer(modelFolder: path("no-such-folder"))) {
            XCTAssertTrue("\($0)".contains("no-such-folder/vocab.json"), "\($0)")
        }
    }

    func testVocabularyJSONParsing() throws {
        let parsed = try VocabJSONParser.parse(Array(#" { "a\"b" : 1 , "\u00e9\ud83d\ude00\n\/" :2,"é":3, "a\"b": 4 }"#.utf8))
        XCTAssertEqual(parsed, ["a\"b": 4, "é😀\n/": 2, "é": 3])
        XCTAssertEqual(try VocabJSONParser.parse(Array("{}".utf8)), [:])
        for bad in ["{\"a\": 01}", "{\"a\": 1e2}", "{\"a\": 2147483648}", "{\"a\": -}", "{\"a\": true}", "{\"a\": 1,}"] {
            XCTAssertThrowsError(try VocabJSONParser.parse(Array(bad.utf8)), bad)
        }
    }

    func testMalformedVocabularyIsReported() throws {
        let merges = write("#version: 0.2\na a</w>\n", to: "merges.txt")
        for (name, body, fragment) in [("notjson.json", "{\"a\": 0,", "line 1, column 9: expected a token string"),
                                       ("badvalue.json", "{\"a\": 0,\n \"b\": x}", "line 2, column 7"),
                                       ("trailing.json", "{\"a\": 0} 1", "unexpected data"),
                                       ("escape.json", #"{"a\q": 0}"#, "bad escape"),
                                       ("surrogate.json", #"{"\ud800": 0}"#, "unpaired surrogate"),
                                       ("unterminated.json", #"{"a"#, "unterminated string"),
                                       ("array.json", "[1, 2]", "one object of token -> id"),
                                       ("string.json", #"{"a": "zero"}"#, "\"a\" is not an integer"),
                                       ("fraction.json", #"{"a": 1.5}"#, "\"a\" is not an integer"),
                                       ("bool.json", #"{"a": true}"#, "\"a\" is not an integer"),
                                       ("negative.json", #"{"a": -1}"#, "negative id -1"),
                                       ("empty.json", "{}", "empty vocabulary")] {
            let vocab = write(body, to: name)
            XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: merges), name) { error in
                guard case .malformedVocab(let file, _)? = error as? CLIPTokenizerError else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(file, vocab)
                XCTAssertTrue("\(error)".contains(vocab), "\(error)")
                XCTAssertTrue(reason(error).contains(fragment), "\(name): \(error)")
            }
        }
        let noSpecial = write(#"{"a": 0, "<|startoftext|>": 1}"#, to: "nospecial.json")
        assertFails(vocab: noSpecial, merges: merges, .missingSpecialToken(file: noSpecial, token: "<|endoftext|>"))
    }

    func testMalformedMergesNameTheLine() throws {
        let vocab = write(#"{"a": 0, "a</w>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}"#, to: "vocab.json")
        let three = write("#version: 0.2\na a</w>\na b c\n", to: "three.txt")
        XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: three)) { error in
            guard case .malformedMerges(let file, let line, _)? = error as? CLIPTokenizerError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, three)
            XCTAssertEqual(line, 3)
            XCTAssertTrue("\(error)".contains("\(three) line 3"), "\(error)")
        }
        let one = write("a a</w>\nlonely\n", to: "one.txt")   // no header: line 1 is a merge
        XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: one)) {
            guard case .malformedMerges(_, 2, _)? = $0 as? CLIPTokenizerError else { return XCTFail("\($0)") }
        }
        let empty = write("#version: 0.2\n", to: "empty.txt")
        XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: empty)) {
            guard case .malformedMerges(let file, _, let r)? = $0 as? CLIPTokenizerError else { return XCTFail("\($0)") }
            XCTAssertEqual(file, empty)
            XCTAssertEqual(r, "no merges")
        }
        let binary = path("binary.txt")
        _ = FileManager.default.createFile(atPath: binary, contents: Data([0x23, 0x0A, 0xFF, 0xFE, 0x20, 0x61]))
        XCTAssertThrowsError(try CLIPTokenizer(vocabPath: vocab, mergesPath: binary)) {
            XCTAssertEqual($0 as? CLIPTokenizerError, .malformedMerges(file: binary, line: 2, reason: "not valid UTF-8"))
        }
    }

    // MARK: Concurrency and cache

    func testConcurrentEncodingAgreesAndCacheStaysBounded() throws {
        let tok = try tokenizer()
        let cases = try Self.cases("tokens.json")
        final class Mismatches: @unchecked Sendable {
            let lock = NSLock()
            var texts: [String] = []
        }
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: cases.count * 2) { i in
            let c = cases[i % cases.count]
            if tok.encode(c.text) != c.ids { mismatches.lock.withLock { mismatches.texts.append(c.text) } }
        }
        XCTAssertEqual(mismatches.texts, [])

        XCTAssertGreaterThan(tok.cachedWordCount, 0)

        let vocab = write(#"{"a": 0, "b": 1, "a</w>": 2, "b</w>": 3, "ab": 6, "<|startoftext|>": 4, "<|endoftext|>": 5}"#,
                          to: "vocab.json")
        let merges = write("#version: 0.2\na b\n", to: "merges.txt")
        let merger = BPEMerger(vocabulary: try BPEVocabulary(vocabPath: vocab, mergesPath: merges),
                               unknownToken: 5, cacheLimit: 4)
        var out: [Int32] = []
        for word in ["a", "b", "aa", "ab", "ba", "bb", "aaa", "aab", "aba", "abb", "a", "b"] {
            merger.encode(word: Array(word.utf8), into: &out)
            XCTAssertLessThanOrEqual(merger.cachedWordCount, 4)
        }
        XCTAssertEqual(out, [2, 3, 0, 2, 0, 3, 1, 2, 1, 3, 0, 0, 2, 0, 0, 3, 6, 2, 6, 3, 2, 3])
    }
}

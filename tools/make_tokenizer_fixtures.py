#!/usr/bin/env python3
"""Make the CLIP tokenizer fixtures for Tests/TTADModelTests/Fixtures/clip-tokenizer (one command).

    python3 -m venv /tmp/tokvenv
    /tmp/tokvenv/bin/pip install torch==2.13.0+cpu "transformers<5" tokenizers ftfy open-clip-torch
    /tmp/tokvenv/bin/python tools/make_tokenizer_fixtures.py            # from the repository root

Options: --out-dir (default Tests/TTADModelTests/Fixtures/clip-tokenizer), --tables (default
Sources/TTADModel/Tokenizer/FTFYTables.swift; UnicodeNFCTables.swift is written beside it), --seed (default 0). Output is deterministic for a given
seed and the package versions recorded in manifest.json.

What it does
 1. Converts the CLIP BPE file shipped in the open-clip-torch wheel (bpe_simple_vocab_16e6.txt.gz,
    MIT) into the Hugging Face model-folder layout, exactly as OpenAI's and HF's tokenizers build
    it: the 256 byte-to-unicode symbols, the same 256 with "</w>", one token per merge (lines
    1..48894 of the file), then <|startoftext|> and <|endoftext|> -> vocab.json (49408 entries)
    and merges.txt ("#version: 0.2" header + 48894 merges). Well-known ids are checked, e.g.
    "a photo of a cat" -> [49406, 320, 1125, 539, 320, 2368, 49407].
 2. Tokenizes >= 250 varied strings with transformers' *slow* Python CLIPTokenizer WITH ftfy
    installed (transformers 4.x: the 5.x series dropped the slow class; its tokenizers-backed
    CLIPTokenizer does no ftfy). That path is: split on the special tokens, then per piece
    ftfy.fix_text -> collapse \\s+ to " " and strip -> lowercase -> CLIP regex -> byte-level BPE.
    tokens.json = [{"text", "ids" (start/end, no truncation), "ids_77" (truncation=True,
    max_length=77: first 75 tokens + end)}]. Entries also carry "fast_ids" (CLIPTokenizerFast,
    built offline from the same files; it does no ftfy) and "openai_ids" (open_clip's
    SimpleTokenizer, the OpenAI reference code: ftfy + html.unescape twice; its special tokens are
    spelled <start_of_text>/<end_of_text>, so texts holding <|endoftext|> differ too) only where
    those differ from "ids". Neither is a test expectation.
 3. The Swift tokenizer implements every ftfy.fix_text step except fix_encoding (mojibake repair,
    with its restore_byte_a0 / replace_lossy_sequences / decode_inconsistent_utf8 sub-steps). A
    string whose ids change when ftfy runs with fix_encoding=False is kept out of tokens.json and
    written to known_differences.json with "ids" (HF reference) and "swift_ids" (the ids of HF
    with fix_encoding=False, which the Swift tokenizer must produce).
 4. Writes the ftfy/html data tables the Swift text cleanup needs (HTML entities as ftfy decodes
    them, numeric character reference rules of html.unescape, width map, ligatures, C1 map,
    control characters) to Sources/TTADModel/Tokenizer/FTFYTables.swift, and Python's Unicode
    normalisation data (combining classes, canonical decompositions, primary composites) to
    UnicodeNFCTables.swift beside it, for the tokenizer's own NFC.
"""

import argparse
import gzip
import hashlib
import html
import html.entities
import importlib.util
import json
import logging
import os
import random
import sys
from functools import partial

CONTEXT = 77
EXPECTED_VOCAB = 49408
N_MERGES = 49152 - 256 - 2  # 48894, as OpenAI and HF slice the BPE file

# Documented ids of HF's openai/clip-vit-base-patch32 tokenizer.
WELL_KNOWN = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
    "a photo of a dog": [49406, 320, 1125, 539, 320, 1929, 49407],
    "": [49406, 49407],
}


def bytes_to_unicode():
    """OpenAI's reversible byte -> printable unicode character map (written out here)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def open_clip_version():
    try:
        from importlib.metadata import version
        return version("open_clip_torch")
    except Exception:  # noqa: BLE001
        return "unknown"


def find_bpe_file():
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("open-clip-torch is not installed (pip install open-clip-torch)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "bpe_simple_vocab_16e6.txt.gz")
    if not os.path.exists(path):
        sys.exit(f"missing {path}")
    return path


def write_model_files(bpe_path, out_dir):
    lines = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1:N_MERGES + 1]]
    assert len(merges) == N_MERGES and all(len(m) == 2 for m in merges)
    symbols = list(bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert len(encoder) == EXPECTED_VOCAB, len(encoder)
    vocab_path = os.path.join(out_dir, "vocab.json")
    merges_path = os.path.join(out_dir, "merges.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(encoder, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(merges_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    return vocab_path, merges_path


# ----------------------------------------------------------------------------------------------
# Fixture strings

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]

HANDWRITTEN = [
    "", " ", "   \t\n  ", "a", "A", "a photo of a cat", "a photo of a dog", "A Photo Of A Cat",
    "A PHOTO OF A CAT!!!", "hello world", "Hello, World!", "hello,world", "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing spaces  ", "multiple     spaces   inside", "tabs\tand\ttabs", "new\nlines\n\nhere",
    "crlf\r\nline\rbreaks", "form\ffeed and\vvertical tab", "no-break\u00a0space", "ideographic\u3000space",
    "em\u2003space and thin\u2009space", "line\u2028separator\u2029paragraph", "next\u0085line",
    # punctuation runs
    "!!!", "?!?!", "...", "a...b", "---", "==>", "(parenthesised)", "[brackets] {braces} <angles>",
    "email@example.com", "https://example.com/path?q=1&r=2#frag", "C:\\Windows\\System32", "#hashtag @mention",
    "$100.00 and 50% off", "1+1=2", "a/b/c", "snake_case_name", "kebab-case-name", "camelCaseName",
    "\"double quoted\"", "'single quoted'", "`backticks`", "~tilde^caret|pipe", "***stars***", "_under_",
    ":-) ;-) :D <3", "¡hola! ¿qué tal?", "«guillemets» „low quotes“", "§ ¶ † ‡ • ‰ ′ ″",
    # contractions
    "it's", "IT'S", "It'S", "don't", "DON'T", "they're", "THEY'RE", "we've", "WE'VE", "i'm", "I'M",
    "you'll", "YOU'LL", "he'd", "HE'D", "'s's's", "''s", "rock'n'roll", "o'clock", "'twas", "y'all'd've",
    "the cat's toy", "the cats' toys", "isn't it", "'S 'T 'RE 'VE 'M 'LL 'D", "'sup", "'ll'll", "it\u2019s curly",
    "\u2018single\u2019 \u201cdouble\u201d", "don\u02bct", "\u201fodd\u201b quotes", "'ſ long s",
    # numbers
    "0", "7", "42", "2024", "3.14159", "1,000,000", "-273.15", "1e10", "0x1F", "v1.2.3", "24/7", "9:41 am",
    "a1b2c3", "room 101", "①②③", "²³", "½ ¼", "Ⅻ roman", "٣٤٥ arabic-indic", "१२३ devanagari", "〇一二三",
    "１２３ fullwidth", "ＬＯＵＤ　ＮＯＩＳＥＳ", "Ｕﾀｰﾝ",
    # unicode letters
    "café", "cafe\u0301", "naïve résumé", "Ångström", "Zoë Saldaña", "Straße", "STRASSE", "İstanbul", "ıi",
    "Ελληνικά γράμματα", "ΟΔΟΣ", "ΣΑΣ ΣΟΦΟΣ", "Σ", "aΣ", "ΑΣ.", "привет мир", "ПРИВЕТ", "Ёлка", "українська ї",
    "日本語のテキスト", "中文字符", "한국어 텍스트", "ภาษาไทย", "עברית", "العربية", "हिन्दी", "ქართული",
    "Ꭰꭰ cherokee", "ǅungla", "ǈ ǋ Ǳ", "ﬁsh ﬂour ﬀ ﬃ ﬄ ﬅ ﬆ", "ĳs", "ŉ", "Ǆ", "K Kelvin", "Å angstrom sign", "ẞ",
    "ᾼ ᾳ", "ω\u0345", "a\u0345b", "\u0345", "e\u0301\u0301", "a\u0308\u0304", "n\u0303", "\u1e9b\u0323",
    "ﾃｽﾄ halfwidth", "ｶﾞ", "ｱｲｳ", "\u1100\u1161\u11a8 jamo", "\uac00\u11a8", "a\u0323\u0301 a\u0301\u0323",
    "\U0001d15f\U0001d160 music", "\U00011099\U000110ba kaithi", "\u212b\u2126 singletons",
    "flag\U000e0057\u0300 tag+grave", "x\U000e0072\u0311y", "\u0300leading mark", "\u0f73\u0f75 tibetan",
    # emoji
    "😀", "I ❤️ NY", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🇺🇸 🇯🇵 flags", "🏴󠁧󠁢󠁷󠁬󠁳󠁿 wales", "✔ done", "★☆", "🐱🐶",
    "a😀b😀c", "🍕🍕🍕🍕", "©®™", "→ ← ↑ ↓", "∑∫√∞≠", "♠♣♥♦",
    # ftfy / html
    "&amp;", "&amp;amp;", "&amp;amp;amp;", "Tom &amp; Jerry", "&lt;tag&gt;", "&quot;quoted&quot;", "&#39;s",
    "it&#x2019;s", "&#65;&#x42;&#X43;", "&#0;", "&#1;x", "&#128;", "&#x80;", "&#xD800;", "&#1114112;",
    "&#65a;", "&#xZZ;", "&#;", "&;", "&nbsp;", "caf&eacute;", "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E",
    "&ntilde; &Ntilde; &NTILDE; &nTILDE;", "&Jscr;ohn &HilbertSpace;ancock", "&checkmark;", "&hellip;",
    "&amp without semicolon", "&copy 2024", "&notanentity;", "this&not that", "&AMP; &LT;",
    "&aaaaaaaaaaaaaaaaaaaaaaaaa;", "&&amp;", "<b>bold &amp; html</b>", "a < b &amp; c",
    "line one &amp;\nline two < &amp;\nline three &amp;", "first &amp; line\n<second> &amp;",
    "&NewLine;&Tab;x", "&#59; &#x3b; &semi;", "&#12345678901234567890123;", "&#x110000;", "&#xFFFE;x", "&lt;|endoftext|&gt;", "&#x2019;&#x201C;",
    "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!", "\u001b[36;44mI'm blue\u001b[0m", "bell\u0007char",
    "null\u0000byte", "del\u007fchar", "bom\ufeffinside", "\ufeffleading bom", "arabic\u206acontrol",
    "annot\ufff9ation\ufffb", "obj\ufffcrep", "c1\u0080\u0081\u0093quotes\u0094", "\u0092s c1 apostrophe",
    "zero\u200bwidth", "zw\u200dj", "rtl\u200fmark", "soft\u00adhyphen", "\u00a0\u00a0nbsp edges\u00a0",
    # special tokens
    "<|startoftext|>", "<|endoftext|>", "hello <|endoftext|> world", "a<|endoftext|>b",
    "<|ENDOFTEXT|>", "<|startoftext|><|endoftext|>", "<|endoftext|> &amp;", "&amp; <|endoftext|>",
    "<|endoftext", "<|ſtartoftext|>", "<|startoftext|>x<|startoftext|>",
    # mojibake (repaired by ftfy.fix_encoding only)
    "CafÃ©", "sÃ³", "voilÃ le travail", "âœ” No problems", "Ã¢â‚¬Å“double mojibakeÃ¢â‚¬Â\x9d",
    "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "&macr;\\_(ã\x83\x84)_/&macr;", "Ãºnico", "â€œquotedâ€\x9d",
    # prompts
    "a photo of a {ankle boot}.", "a photo of a {}.", "{}", "a photo of the t-shirt/top.",
    "an origami dog.", "itap of a cat.", "a bad photo of the airplane.", "a close-up photo of a dog.",
    "art of the fox.", "a rendition of the banana.", "a photo of the large hot dog.",
    "a photo of a 1960s car", "a sketch of a man's hat", "a photo of my kid's teddy bear",
]

CLASSNAMES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    "T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot",
    "aquarium_fish", "maple_tree", "sweet_pepper", "lawn-mower", "pickup truck", "great white shark",
    "tench", "goldfish", "hammerhead shark", "electric ray", "African bush elephant", "Yorkshire Terrier",
    "St. Bernard", "Bernese Mountain Dog", "Pomeranian", "Jack-o'-lantern", "potter's wheel",
    "carpenter's kit", "yo-yo", "CD player", "iPod", "T.V.", "Granny Smith apple", "crêpe", "jalapeño",
    "Gruyère cheese", "smörgåsbord", "piñata", "résumé", "über", "Ångström meter",
]

TEMPLATES = [
    "a photo of a {}.", "a photo of the {}.", "a blurry photo of a {}.", "a black and white photo of the {}.",
    "a low resolution photo of a {}.", "a painting of the {}.", "itap of my {}.", "a cropped photo of a {}.",
    "a photo of a {}, a type of pet.", "A PHOTO OF A {}!", "this is a picture of a {}'s shadow",
]

POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
    + list(" " * 20) + list(".,;:!?-_/()[]\"'&#@%*+=<>|~`^$") + ["\t", "\n", "  "]
    + CONTRACTIONS * 2 + ["&amp;", "&lt;", "&#39;", "’", "“", "”"]
    + list("éèêëàâäçñøåÉÀÇÑÜßœæ") + list("αβγδεζΣσςΩω") + list("абвгдежзЖЯЁ")
    + list("日本語中文字한국어カタカナ") + ["😀", "❤️", "👍", "🐱", "✔", "★"]
    + ["e\u0301", "a\u0308", "\u0301", "ﬁ", "Ａ", "１", "½", "²", "①"]
)

WORDS = ("the of and a to in is you that it he was for on are as with his they at be this have from "
         "or one had by word but not what all were we when your can said there use an each which she do "
         "how their if will up other about out many then them these so some her would make like him into "
         "time has look two more write go see number no way could people my than first water been call "
         "who oil its now find long down day did get come made may part photograph sunset mountain "
         "zebra giraffe kaleidoscope encyclopedia unbelievably antidisestablishmentarianism").split()


def build_strings(seed):
    rng = random.Random(seed)
    strings = list(HANDWRITTEN)
    for i, name in enumerate(CLASSNAMES):
        strings.append(TEMPLATES[i % len(TEMPLATES)].format(name))
    for name in CLASSNAMES[:12]:
        strings.append("a photo of a {" + name + "}.")
    for _ in range(70):
        n = rng.randint(1, 24)
        strings.append("".join(rng.choice(POOL) for _ in range(n)))
    for _ in range(25):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        if rng.random() < 0.5:
            words[0] = words[0].capitalize()
        strings.append(" ".join(words) + rng.choice([".", "!", "?", "", "..."]))
    # Long texts, more than 77 tokens.
    strings.append(" ".join(rng.choice(WORDS) for _ in range(120)))
    strings.append("a photo of a cat. " * 20)
    strings.append("1234567890" * 12)
    strings.append("!?" * 40 + " end")
    strings.append(("Voilà, l'été à Montréal — très beau! " * 8).strip())
    strings.append("日本語" * 60)
    strings.append("😀" * 50)
    strings.append("&amp; " * 90)
    seen, unique = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


# ----------------------------------------------------------------------------------------------
# Swift tables

def swift_tables():
    import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252)
    from ftfy import chardata

    def hexes(s):
        return " ".join(f"{ord(c):X}" for c in s)

    entity_lines = [f"{name[1:]}:{hexes(value)}" for name, value in sorted(chardata.HTML_ENTITIES.items())]
    assert all("\n" not in line for line in entity_lines)
    width_lines = [f"{cp:X}:{hexes(v)}" for cp, v in sorted(chardata.WIDTH_MAP.items())]
    lig_lines = [f"{cp:X}:{hexes(v)}" for cp, v in sorted(chardata.LIGATURES.items())]
    c1_lines = [f"{cp:X}:{hexes(bytes([cp]).decode('sloppy-windows-1252'))}" for cp in range(0x80, 0xA0)]
    control = sorted(chardata.CONTROL_CHARS)
    charref_lines = [f"{cp:X}:{hexes(v)}" for cp, v in sorted(html._invalid_charrefs.items())]
    invalid_cps = sorted(html._invalid_codepoints)

    def block(lines):
        return "\n".join(lines)

    return f'''// GENERATED by tools/make_tokenizer_fixtures.py from ftfy and Python's html module. Do not edit.
// Each table is one string literal ("key:HEX HEX ..." lines) parsed once on first use.

enum FTFYTables {{
    /// ftfy.chardata.HTML_ENTITIES without the leading "&": html5 entities ending in ";" plus the
    /// all-caps forms ftfy also decodes. Values are code points in hex.
    static let htmlEntities = """
{block(entity_lines)}
"""

    /// html._invalid_charrefs: numeric character references decoded to a replacement.
    static let invalidCharrefs = """
{block(charref_lines)}
"""

    /// html._invalid_codepoints: numeric character references decoded to nothing.
    static let invalidCodepoints = "{" ".join(f"{cp:X}" for cp in invalid_cps)}"

    /// ftfy.chardata.WIDTH_MAP (fix_character_width).
    static let widthMap = """
{block(width_lines)}
"""

    /// ftfy.chardata.LIGATURES (fix_latin_ligatures).
    static let ligatures = """
{block(lig_lines)}
"""

    /// U+0080..U+009F decoded as sloppy-windows-1252 (fix_c1_controls).
    static let c1Controls = """
{block(c1_lines)}
"""

    /// ftfy.chardata.CONTROL_CHARS (remove_control_chars).
    static let controlCharacters = "{" ".join(f"{cp:X}" for cp in control)}"
}}
'''


def swift_nfc_tables():
    """Python's own Unicode data (unicodedata.unidata_version) for the Swift NFC (UnicodeNFC.swift):
    Foundation's NFC on Linux mangles supplementary-plane scalars, so the tokenizer has its own."""
    import unicodedata
    ccc_ranges, start, prev, prev_ccc = [], None, None, 0
    for cp in range(0x110000):
        c = unicodedata.combining(chr(cp))
        if c != prev_ccc or (c and cp != prev + 1):
            if prev_ccc:
                ccc_ranges.append((start, prev, prev_ccc))
            start = cp
        prev, prev_ccc = cp, c
    if prev_ccc:
        ccc_ranges.append((start, prev, prev_ccc))
    decomp, composable = [], []
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        decomp.append(f"{cp:X}:{' '.join(f'{x:X}' for x in parts)}")
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            composable.append(f"{cp:X}")
    return f'''// GENERATED by tools/make_tokenizer_fixtures.py from Python's unicodedata (Unicode {unicodedata.unidata_version}).
// Do not edit. Used by UnicodeNFC; one string literal per table, parsed once on first use.

enum UnicodeNFCTables {{
    static let unicodeVersion = "{unicodedata.unidata_version}"

    /// Canonical_Combining_Class: "first-last:ccc" ranges (hex), ccc 0 elsewhere.
    static let combiningClasses = """
{chr(10).join(f"{a:X}-{b:X}:{c}" for a, b, c in ccc_ranges)}
"""

    /// Canonical decomposition mappings (one level; Hangul syllables are algorithmic).
    static let decompositions = """
{chr(10).join(decomp)}
"""

    /// Primary composites: two-scalar canonical decompositions not excluded from composition.
    static let primaryComposites = "{' '.join(composable)}"
}}
'''


# ----------------------------------------------------------------------------------------------

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(root, "Tests/TTADModelTests/Fixtures/clip-tokenizer"))
    ap.add_argument("--tables", default=os.path.join(root, "Sources/TTADModel/Tokenizer/FTFYTables.swift"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import ftfy
    import tokenizers
    import transformers
    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit("needs transformers 4.x: 5.x has no slow (ftfy) CLIPTokenizer; pip install 'transformers<5'")
    from transformers import CLIPTokenizer, CLIPTokenizerFast
    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)

    os.makedirs(args.out_dir, exist_ok=True)
    bpe_path = find_bpe_file()
    vocab_path, merges_path = write_model_files(bpe_path, args.out_dir)

    tok = CLIPTokenizer(vocab_path, merges_path, model_max_length=CONTEXT)
    assert tok.fix_text is ftfy.fix_text, "ftfy must be installed: the fixtures are made with it"
    assert len(tok) == EXPECTED_VOCAB
    subset = CLIPTokenizer(vocab_path, merges_path, model_max_length=CONTEXT)
    subset.fix_text = partial(ftfy.fix_text, fix_encoding=False)
    try:
        fast = CLIPTokenizerFast(vocab_file=vocab_path, merges_file=merges_path, model_max_length=CONTEXT)
    except Exception as e:  # noqa: BLE001
        print(f"CLIPTokenizerFast did not build offline: {e}", file=sys.stderr)
        fast = None
    try:
        # Load open_clip/tokenizer.py on its own: the package __init__ pulls in torchvision, whose
        # wheel may not match the local CPU torch.
        spec = importlib.util.spec_from_file_location(
            "open_clip_tokenizer", os.path.join(os.path.dirname(bpe_path), "tokenizer.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        openai = module.SimpleTokenizer(bpe_path)
    except Exception as e:  # noqa: BLE001
        print(f"open_clip SimpleTokenizer unavailable: {e}", file=sys.stderr)
        openai = None

    for text, ids in WELL_KNOWN.items():
        got = tok(text)["input_ids"]
        assert got == ids, (text, got, ids)

    def ids_of(t, text):
        return t(text)["input_ids"]

    entries, known = [], []
    fast_diffs = openai_diffs = 0
    for text in build_strings(args.seed):
        ids = ids_of(tok, text)
        ids_77 = tok(text, truncation=True, max_length=CONTEXT)["input_ids"]
        assert ids_77 == (ids if len(ids) <= CONTEXT else ids[:CONTEXT - 1] + [ids[-1]])
        entry = {"text": text, "ids": ids, "ids_77": ids_77}
        if fast is not None:
            f_ids = ids_of(fast, text)
            if f_ids != ids:
                entry["fast_ids"] = f_ids
                fast_diffs += 1
        if openai is not None:
            o_ids = [openai.sot_token_id] + openai.encode(text) + [openai.eot_token_id]
            o_ids = [49406 if i == openai.sot_token_id else 49407 if i == openai.eot_token_id else i for i in o_ids]
            if o_ids != ids:
                entry["openai_ids"] = o_ids
                openai_diffs += 1
        swift_ids = ids_of(subset, text)
        if swift_ids != ids:
            entry["swift_ids"] = swift_ids
            entry["reason"] = "needs ftfy fix_encoding (mojibake repair), not implemented in Swift"
            known.append(entry)
        else:
            entries.append(entry)

    def dump(path, items):
        with open(path, "w", encoding="utf-8") as f:
            f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in items) + "\n]\n")

    dump(os.path.join(args.out_dir, "tokens.json"), entries)
    dump(os.path.join(args.out_dir, "known_differences.json"), known)

    def sha(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()

    manifest = {
        "generator": "tools/make_tokenizer_fixtures.py",
        "seed": args.seed,
        "reference": "transformers.CLIPTokenizer (slow, Python) with ftfy installed",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "ftfy": ftfy.__version__, "python": sys.version.split()[0],
                     "open_clip": open_clip_version()},
        "bpe_source": "open_clip/bpe_simple_vocab_16e6.txt.gz (open-clip-torch wheel, MIT)",
        "vocab_size": EXPECTED_VOCAB, "merges": N_MERGES,
        "sha256": {"vocab.json": sha(vocab_path), "merges.txt": sha(merges_path)},
        "strings": len(entries), "known_differences": len(known),
        "fast_tokenizer_differences": fast_diffs if fast is not None else None,
        "openai_reference_differences": openai_diffs if openai is not None else None,
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    os.makedirs(os.path.dirname(args.tables), exist_ok=True)
    with open(args.tables, "w", encoding="utf-8") as f:
        f.write(swift_tables())
    with open(os.path.join(os.path.dirname(args.tables), "UnicodeNFCTables.swift"), "w", encoding="utf-8") as f:
        f.write(swift_nfc_tables())
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()

import XCTest
@testable import TTADDaemon

/// `TableHeaderCheck` finds the headers TOMLKit would assert on (`[` with no name after it) and
/// nothing that is valid TOML: nested arrays, brackets and `#` inside strings, comments.
final class TableHeaderCheckTests: XCTestCase {
    private func check(_ text: String) -> [Int]? { TableHeaderCheck.firstBlankHeader(in: text).map { [$0.line, $0.column] } }

    func testANamelessHeaderIsFoundWithItsPosition() {
        XCTAssertEqual(check("[daemon]\nmode = \"image\"\n[\nx = 1\n"), [3, 1])
        XCTAssertEqual(check("a = 1\n  [[ \n"), [2, 3])
        XCTAssertEqual(check("[ # comment\n"), [1, 1])
        XCTAssertEqual(check("[.a]\n"), [1, 1])
        XCTAssertEqual(check("x = [1,\n 2]\n[=]\n"), [3, 1])
    }

    func testValidTOMLPasses() {
        let valid = """
        # a comment with [ brackets
        [daemon]
        mode = "image"  # trailing [
        [ "quoted.table" ]
        [[array]]
        [ a . b ]
        x = [
          [
            1, 2],
          [3],
        ]
        y = { z = [ [ ] ] }
        s = \"\"\"
        [
        \"\"\"
        l = '''
        [
        '''
        t = "[\\"["
        """
        XCTAssertNil(check(valid))
        XCTAssertNil(check("[]\n"), "an empty name is TOMLKit's own clean error")
        XCTAssertNil(check("["), "at the end of the file too")
    }
}

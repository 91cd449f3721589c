import Testing
import TestSupport

struct NamedCasesTests {
    @Test func namesKeepTheirOrderAndFindTheirValues() {
        let table = NamedCases([("b", 2), ("a", 1), ("c", 3)])
        #expect(table.names == ["b", "a", "c"])
        #expect(table["a"] == 1 && table["b"] == 2 && table["c"] == 3)
    }
}

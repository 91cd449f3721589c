import Testing
import TestSupport

struct PrintedOutputTests {
    @Test func shownLayersSplitChannelsAndSkipOtherLines() {
        let text = """
            input: 2x1x1
            channel 1 of 1
               9.00  9.00

            c1: conv 2 1x1 → 2x1x2
            channel 1 of 2
               1.00  -2.50
            channel 2 of 2
               nan   3.00

            votes: fc 2 → 2
               0.25  0.75
            image 0: top 2 of 2 classes
              #1  class 1   0.7500
              #2  class 0   0.2500
            """
        let layers = PrintedOutput.shownLayers(text)
        #expect(layers.map(\.name) == ["c1", "votes"])
        #expect(layers[0].channels.count == 2 && layers[0].channels[0] == [1, -2.5])
        #expect(layers[0].channels[1].count == 2 && layers[0].channels[1][0].isNaN && layers[0].channels[1][1] == 3)
        #expect(layers[1].channels == [[0.25, 0.75]])
        let ranked = PrintedOutput.rankedClasses(text)
        #expect(ranked.map(\.classIndex) == [1, 0] && ranked.map(\.score) == [0.75, 0.25])
    }

    @Test func tableRowsAndNormalizedText() {
        let text = "layer  op      output\ninput          7x7x1\nc      conv 1  5x5x1\n"
        #expect(PrintedOutput.tableRows(text, layer: "c") == [["c", "conv", "1", "5x5x1"]])
        #expect(PrintedOutput.tableRows(text, layer: "d").isEmpty)
        #expect(PrintedOutput.normalized("  a \n\t b  ") == "a b")
    }
}

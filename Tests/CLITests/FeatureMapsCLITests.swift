import Foundation
import Testing

@Suite struct FeatureMapsCLITests {
    @Test func showAllPrintsTheLecturesGrids() throws {
        let files = try LectureFiles()
        let result = files.run(["--show", "all"])
        #expect(result.code == 0, "\(result.err)")
        // The input as typed, then the lecture's answer: 4 3 4 / 2 4 3 / 2 3 4.
        #expect(result.out.hasPrefix("input: 5x5x1\nchannel 1 of 1\n   1.00  1.00  1.00  0.00  0.00\n"), "\(result.out)")
        #expect(result.out.contains("""
            c1: conv 1 3x3 stride 1 pad 0 → 3x3x1
            channel 1 of 1
               4.00  3.00  4.00
               2.00  4.00  3.00
               2.00  3.00  4.00

            output [1, 1, 3, 3]
            """), "\(result.out)")
    }

    @Test func showByNameAndAnUnknownName() throws {
        let files = try LectureFiles()
        let named = files.run(["--show", "c1"])
        #expect(named.code == 0)
        #expect(named.out.hasPrefix("c1: conv 1 3x3"))
        let unknown = files.run(["--show", "c2"])
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("--show: network 'conv' has no layer named 'c2' (did you mean 'c1'?)"), "\(unknown.err)")
    }

    @Test func aLayerTooLargeToPrintPointsToPictures() throws {
        let files = try LectureFiles()
        try files.write("big.cnn", "input 5x5x1\nc1: conv 1 3x3\nup: upsample 30\n")  // 90x90 = 8,100 values
        let result = runDriver(["run", files.file("big.cnn"), "--weights", files.weights, "--input", files.input, "--show", "all"])
        #expect(result.code == 2)
        #expect(result.err.contains("--show: up is 90x90x1 = 8,100 values per image"), "\(result.err)")
        #expect(result.err.contains("--pictures DIR"))
    }

    @Test func topOnAVolumeIsAnError() throws {
        let files = try LectureFiles()
        let result = files.run(["--top", "3"])
        #expect(result.code == 2)
        #expect(result.err.contains("--top 3: the output of 'conv' is 3x3x1, not a vector"), "\(result.err)")
        #expect(result.out.isEmpty)
    }

    @Test func topRanksAOneByOneOutput() throws {
        let files = try LectureFiles()
        try files.write("pool.cnn", "input 5x5x1\nc1: conv 1 3x3\ng: globalmaxpool\n")
        let result = runDriver(["run", files.file("pool.cnn"), "--weights", files.weights, "--input", files.input,
                                "--backend", "reference", "--top", "1"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("#1  class 0   4.0000"), "\(result.out)")  // the largest of the nine sums
    }

    @Test func picturesWritesAPNGPerChannelAndAnIndex() throws {
        let files = try LectureFiles()
        let folder = files.file("maps")
        let result = files.run(["--pictures", folder])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("wrote \(folder)/index.html and 2 pictures"))
        #expect(files.names("maps") == ["c1-ch1.png", "index.html", "input-ch1.png"])
        let png = try #require(files.contents("maps/c1-ch1.png"))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let html = String(decoding: try #require(files.contents("maps/index.html")), as: UTF8.self)
        #expect(html.contains("<img src=\"c1-ch1.png\""))
        #expect(html.contains("c1: conv 1 3x3 stride 1 pad 0 → 3x3x1"))
        #expect(!html.contains("<script") && !html.contains("src=\"/"))
    }

    @Test func picturesOfTheShowSelectionForABatch() throws {
        let files = try LectureFiles()
        let batch = try files.write("batch.txt", LectureFiles.image + "--\n" + LectureFiles.image)
        let folder = files.file("maps")
        let result = files.run(["--show", "c1", "--pictures", folder], input: batch)
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("image 2 of 2\nchannel 1 of 1\n   4.00  3.00  4.00\n"))
        #expect(files.names("maps") == ["c1-img1-ch1.png", "c1-img2-ch1.png", "index.html"])
    }

    @Test func mapsFromTheReferenceBesideACompiledBackend() throws {
        let files = try LectureFiles()
        let result = runDriver(["run", files.network, "--weights", files.weights, "--input", files.input,
                                "--backend", "c", "--show", "c1"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("   4.00  3.00  4.00\n   2.00  4.00  3.00\n   2.00  3.00  4.00\n"))
        #expect(result.out.contains("image 0: min 2.0000  max 4.0000  mean 3.2222"), "\(result.out)")
    }
}

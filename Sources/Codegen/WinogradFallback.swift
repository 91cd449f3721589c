// Winograd's transforms scale values by up to 100 (input) and 361 (output), so a finite input
// can overflow them (20x20x64 at 1e37), and an inf or NaN in a tile's input spreads to all its
// outputs. The output transform flags a tile whose results are not finite, and only such tiles
// are recomputed as a direct convolution in double; normal inputs never take that path.

extension WinogradMatrices {
    /// L (r x t) with L·G = I: the filter g = L U Lᵀ from U = G g Gᵀ. The first and last
    /// taps come from the points 0 and ∞ alone (their rows of G are a power of two times e₀
    /// and e_{r−1}), so they come back exactly; the others combine the ±1 and ±2 rows.
    static func filterRecovery(tile m: Int, taps r: Int) -> [[Double]] {
        let l: [[Double]]
        switch (m, r) {
        case (4, 3):
            // G rows: [1/4, 0, 0], −(1/6)(1, ±1, 1), (1/24)(1, ±2, 4), [0, 0, 1].
            l = [[4, 0, 0, 0, 0, 0],
                 [0, -3, 3, 0, 0, 0],
                 [0, 0, 0, 0, 0, 1]]
        case (2, 5):
            // g1 + g3 = 3(r2 − r1), g1 + 4g3 = 6(r3 − r4), g0 + g2 + g4 = −3(r1 + r2).
            l = [[4, 0, 0, 0, 0, 0],
                 [0, -4, 4, -2, 2, 0],
                 [-4, -3, -3, 0, 0, -1],
                 [0, 1, -1, 2, -2, 0],
                 [0, 0, 0, 0, 0, 1]]
        default:
            preconditionFailure("no filter recovery for F(\(m), \(r))")
        }
        let g = self.g(tile: m, taps: r)
        for a in 0..<r {
            for b in 0..<r {
                let product = (0..<(m + r - 1)).reduce(0.0) { $0 + l[a][$1] * g[$1][b] }
                precondition(abs(product - (a == b ? 1 : 0)) < 1e-12, "L·G is not the identity")
            }
        }
        return l
    }
}

extension FastCEmitter {
    /// C for the Winograd step's slow path: `_nonfinite` tests a flag from the output transform,
    /// and `_direct` computes the m x m outputs at (oy0, ox0) of output block kb directly, in
    /// double as the reference interpreter does, then adds the residual and applies the activation.
    func winogradFallback(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> String {
        let C = conv.input.depth, H = conv.input.height, W = conv.input.width
        let K = conv.output.depth, OH = conv.output.height, OW = conv.output.width
        let PT = conv.window.padTop, PL = conv.window.padLeft
        let m = wg.tile, r = wg.taps, t = m + r - 1
        let NB = wg.outputBlocks, KB = roundUp(K, to: channelBlock) / channelBlock, KBG = KB / NB, channels = roundUp(C, to: channelBlock)
        // U's layout (PackedLayout.winograd): [t·t][KBG][channels][NB·16].
        let xiStride = KBG * channels * NB * channelBlock
        let l = WinogradMatrices.filterRecovery(tile: m, taps: r)
        let lText = l.map { "{ " + $0.map { "\($0)" }.joined(separator: ", ") + " }" }.joined(separator: ", ")
        let activation = step.activation.map { $0 == .softmax ? "" : "v = \(scalarActivation($0, "v"));" } ?? ""
        return """
            static int \(fn)_nonfinite(cv16 flag)
            {
                float f[16];
                int l, any = 0;
                cv_store(f, flag);
                for (l = 0; l < 16; l++) any |= f[l] != 0.0f;
                return any;
            }

            /* The outputs of block kb at (oy0, ox0) as a direct convolution in double, from the
               filters g = L U Lᵀ recovered from U; for tiles whose Winograd result is not finite. */
            #if defined(__GNUC__)
            __attribute__((cold, noinline))   /* off the hot path: a call only where a result is not finite */
            #endif
            static void \(fn)_direct(const float *restrict x, const float *restrict u, float *restrict o,
                                         const float *restrict rs, const float *restrict bias, int kb, int oy0, int ox0)
            {
                static const double lt[\(r)][\(t)] = { \(lText) };
                double acc[\(m)][\(m)][16], f[16][\(r)][\(r)], h[\(r)][\(t)];
                const int g = kb / \(NB), lanes = \(K) - kb * 16 < 16 ? \(K) - kb * 16 : 16;
                int c, i, j, l, p, q, ky, kx;
                for (i = 0; i < \(m); i++) for (j = 0; j < \(m); j++) for (l = 0; l < 16; l++) acc[i][j][l] = bias ? bias[l] : 0.0;
                for (c = 0; c < \(C); c++) {
                    const float *uc = u + ((size_t)g * \(channels) + (size_t)c) * \(NB * channelBlock) + (size_t)(kb % \(NB)) * 16;
                    for (l = 0; l < lanes; l++) {
                        for (p = 0; p < \(r); p++) for (q = 0; q < \(t); q++) {
                            double s = 0.0;
                            for (i = 0; i < \(t); i++) s += lt[p][i] * uc[(size_t)(i * \(t) + q) * \(xiStride) + (size_t)l];
                            h[p][q] = s;
                        }
                        for (p = 0; p < \(r); p++) for (q = 0; q < \(r); q++) {
                            double s = 0.0;
                            for (i = 0; i < \(t); i++) s += h[p][i] * lt[q][i];
                            f[l][p][q] = s;
                        }
                    }
                    for (i = 0; i < \(m) && oy0 + i < \(OH); i++) for (j = 0; j < \(m) && ox0 + j < \(OW); j++) {
                        for (ky = 0; ky < \(r); ky++) {
                            const int iy = oy0 + i + ky - \(PT);
                            if (iy < 0 || iy >= \(H)) continue;
                            for (kx = 0; kx < \(r); kx++) {
                                const int ix = ox0 + j + kx - \(PL);
                                double xv;
                                if (ix < 0 || ix >= \(W)) continue;
                                xv = x[(((size_t)(c / 16) * \(H) + (size_t)iy) * \(W) + (size_t)ix) * 16 + (size_t)(c % 16)];
                                for (l = 0; l < lanes; l++) acc[i][j][l] += f[l][ky][kx] * xv;
                            }
                        }
                    }
                }
                for (i = 0; i < \(m) && oy0 + i < \(OH); i++) for (j = 0; j < \(m) && ox0 + j < \(OW); j++) {
                    const size_t at = ((size_t)(oy0 + i) * \(OW) + (size_t)(ox0 + j)) * 16;
                    for (l = 0; l < 16; l++) {
                        float v = (float)acc[i][j][l];
                        if (rs) v += rs[at + l];
                        \(activation)
                        o[at + l] = v;
                    }
                }
            }

            """
    }
}

/* reference_kernels.c: the plain C kernels (CKernels.swift), one section per ReferenceKernel
 * case that has C, in the order of its cases, which is also the order of their dependencies.
 * Compiled into Codegen by SwiftPM and cut into sections by EmbeddedC.swift: each
 * section runs from its `cnnc-embed: NAME` marker line to the next; the text above the
 * first marker is not embedded and only lets clang check this file alone. */
#include <math.h>
#include <stddef.h>
#include <string.h>

/* cnnc-embed: activate */
/* Activation codes stored in the shape structs. */
enum { K_NONE, K_RELU, K_LEAKY_RELU, K_ELU, K_SIGMOID, K_TANH, K_SOFTMAX,
       K_RELU6, K_HARDSWISH, K_HARDSIGMOID, K_SILU, K_GELU, K_GELU_TANH };

/* y[c, p] = act(y[c, p]) in place, for one image of `channels` x `spatial` values
 * stored [C, P]; softmax runs across the channels at each position. */
static void k_activate(float *y, int channels, int spatial, int act, float alpha)
{
    const size_t count = (size_t)channels * (size_t)spatial;
    size_t i;
    int c, p;
    switch (act) {
    /* Tested `< 0` so that a NaN takes the identity branch and stays NaN (PyTorch). */
    case K_RELU:
        for (i = 0; i < count; i++) y[i] = y[i] < 0.0f ? 0.0f : y[i];
        break;
    case K_LEAKY_RELU:
        for (i = 0; i < count; i++) y[i] = y[i] < 0.0f ? alpha * y[i] : y[i];
        break;
    case K_ELU:
        for (i = 0; i < count; i++) y[i] = y[i] < 0.0f ? alpha * expm1f(y[i]) : y[i];
        break;
    case K_SIGMOID:
        for (i = 0; i < count; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case K_TANH:
        for (i = 0; i < count; i++) y[i] = tanhf(y[i]);
        break;
    /* PyTorch's formulas in its order: -inf * 0 makes hardswish, silu and gelu of -inf NaN,
     * as in torch; the clamps test `< 0` and `> 6` so that a NaN falls through. */
    case K_RELU6:
        for (i = 0; i < count; i++) y[i] = y[i] < 0.0f ? 0.0f : y[i] > 6.0f ? 6.0f : y[i];
        break;
    case K_HARDSWISH:
        for (i = 0; i < count; i++) {
            const float t = y[i] + 3.0f;
            y[i] = y[i] * (t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t) / 6.0f;
        }
        break;
    case K_HARDSIGMOID:
        for (i = 0; i < count; i++) {
            const float t = y[i] + 3.0f;
            y[i] = (t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t) / 6.0f;
        }
        break;
    case K_SILU:
        for (i = 0; i < count; i++) y[i] = y[i] / (1.0f + expf(-y[i]));
        break;
    case K_GELU:
        for (i = 0; i < count; i++) y[i] = y[i] * 0.5f * (1.0f + erff(y[i] * 0.70710678118654752f));
        break;
    case K_GELU_TANH:
        for (i = 0; i < count; i++) {
            const float x = y[i];
            y[i] = 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
        }
        break;
    case K_SOFTMAX:
        for (p = 0; p < spatial; p++) {
            float max = y[p], sum = 0.0f;
            for (c = 1; c < channels; c++) {
                const float v = y[(size_t)c * spatial + p];
                if (v > max) max = v;
            }
            for (c = 0; c < channels; c++) {
                float *v = &y[(size_t)c * spatial + p];
                *v = expf(*v - max);
                sum += *v;
            }
            for (c = 0; c < channels; c++) y[(size_t)c * spatial + p] /= sum;
        }
        break;
    default:
        break;
    }
}

/* cnnc-embed: windowRange */
/* The outputs o whose input index o*stride + offset falls inside [0, size):
 * k_first gives the first, k_end one past the last (at most `out_size`). */
static int k_first(int offset, int stride)
{
    return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
}

static int k_end(int offset, int stride, int size, int out_size)
{
    int end;
    if (size - offset <= 0) return 0;
    end = (size - offset - 1) / stride + 1;
    return end < out_size ? end : out_size;
}

/* cnnc-embed: convolution */
typedef struct {
    int in_c, in_h, in_w;      /* input  [C, H, W] per image */
    int out_c, out_h, out_w;   /* output [K, OH, OW] per image */
    int k_h, k_w;              /* kernel */
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;     /* zero cells before the first row / column */
    int groups;
    int act;                   /* K_NONE, K_RELU, ... */
    float alpha;               /* leaky relu's slope, elu's alpha */
} k_conv_shape;

/* out[n, k, oy, ox] = act(bias[k] + sum over c < C/G, ky, kx of
 *     weight[k, c, ky, kx] * in[n, g*C/G + c, oy*SH - PT + ky*DH, ox*SW - PL + kx*DW])
 * where g = k / (K/G) is k's group and cells outside the input are zero.
 * in [N, C, H, W], weight [K, C/G, KH, KW], bias [K] or NULL, out [N, K, OH, OW]. */
static void k_conv2d(float *restrict out, const float *restrict in, const float *restrict weight,
                     const float *restrict bias, int batch, const k_conv_shape *s)
{
    const int C = s->in_c, H = s->in_h, W = s->in_w, K = s->out_c, OH = s->out_h, OW = s->out_w;
    const int KH = s->k_h, KW = s->k_w, SH = s->stride_h, SW = s->stride_w;
    const int DH = s->dilation_h, DW = s->dilation_w, PT = s->pad_top, PL = s->pad_left;
    const int CG = C / s->groups, KG = K / s->groups;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    int n, k, c, ky, kx, oy, ox;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * C * in_plane;
        float *y = out + (size_t)n * K * out_plane;
        for (k = 0; k < K; k++) {
            float *yk = y + (size_t)k * out_plane;
            const float *xg = x + (size_t)(k / KG) * CG * in_plane;
            const float b = bias ? bias[k] : 0.0f;
            size_t i;
            for (i = 0; i < out_plane; i++) yk[i] = b;
            for (c = 0; c < CG; c++) {
                const float *xc = xg + (size_t)c * in_plane;
                const float *wc = weight + ((size_t)k * CG + c) * KH * KW;
                for (ky = 0; ky < KH; ky++) {
                    const int y_off = ky * DH - PT;
                    const int oy0 = k_first(y_off, SH), oy1 = k_end(y_off, SH, H, OH);
                    for (kx = 0; kx < KW; kx++) {
                        const float w = wc[ky * KW + kx];
                        const int x_off = kx * DW - PL;
                        const int ox0 = k_first(x_off, SW), ox1 = k_end(x_off, SW, W, OW);
                        for (oy = oy0; oy < oy1; oy++) {
                            const float *xr = xc + (size_t)(oy * SH + y_off) * W;
                            float *yr = yk + (size_t)oy * OW;
                            if (SW == 1) {
                                for (ox = ox0; ox < ox1; ox++) yr[ox] += w * xr[ox + x_off];
                            } else {
                                for (ox = ox0; ox < ox1; ox++) yr[ox] += w * xr[ox * SW + x_off];
                            }
                        }
                    }
                }
            }
            if (s->act != K_NONE && s->act != K_SOFTMAX) k_activate(yk, 1, OH * OW, s->act, s->alpha);
        }
        if (s->act == K_SOFTMAX) k_activate(y, K, OH * OW, s->act, s->alpha);
    }
}

/* cnnc-embed: fullyConnected */
typedef struct {
    int inputs, outputs;
    int act;
    float alpha;
} k_fc_shape;

/* out[n, j] = act(bias[j] + sum over i of in[n, i] * weight[i, j]).
 * in [N, IN], weight [IN, OUT] (PyTorch's [OUT, IN] transposed when packed),
 * bias [OUT] or NULL, out [N, OUT]. */
static void k_fc(float *restrict out, const float *restrict in, const float *restrict weight,
                 const float *restrict bias, int batch, const k_fc_shape *s)
{
    const int IN = s->inputs, OUT = s->outputs;
    int n, i, j;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * IN;
        float *y = out + (size_t)n * OUT;
        for (j = 0; j < OUT; j++) y[j] = bias ? bias[j] : 0.0f;
        for (i = 0; i < IN; i++) {
            const float xi = x[i];
            const float *w = weight + (size_t)i * OUT;
            for (j = 0; j < OUT; j++) y[j] += xi * w[j];
        }
        if (s->act != K_NONE) k_activate(y, OUT, 1, s->act, s->alpha);
    }
}

/* cnnc-embed: poolShape */
typedef struct {
    int channels;
    int in_h, in_w, out_h, out_w;
    int k_h, k_w, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left, pad_bottom, pad_right;
} k_pool_shape;

/* cnnc-embed: maxPool */
/* out[n, c, oy, ox] = max over ky, kx of in[n, c, oy*SH - PT + ky*DH, ox*SW - PL + kx*DW],
 * over the cells inside the input only (a padded cell is never picked); a NaN in
 * the window gives NaN, as PyTorch's max_pool2d (once m is NaN, nothing replaces it).
 * in [N, C, H, W], out [N, C, OH, OW]. */
static void k_maxpool(float *restrict out, const float *restrict in, int batch, const k_pool_shape *s)
{
    const int H = s->in_h, W = s->in_w, OH = s->out_h, OW = s->out_w;
    const size_t planes = (size_t)batch * s->channels;
    size_t plane;
    int oy, ox, ky, kx;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * H * W;
        float *y = out + plane * OH * OW;
        for (oy = 0; oy < OH; oy++) {
            for (ox = 0; ox < OW; ox++) {
                float m = -INFINITY;
                for (ky = 0; ky < s->k_h; ky++) {
                    const int iy = oy * s->stride_h - s->pad_top + ky * s->dilation_h;
                    if (iy < 0 || iy >= H) continue;
                    for (kx = 0; kx < s->k_w; kx++) {
                        const int ix = ox * s->stride_w - s->pad_left + kx * s->dilation_w;
                        if (ix < 0 || ix >= W) continue;
                        if (x[iy * W + ix] > m || isnan(x[iy * W + ix])) m = x[iy * W + ix];
                    }
                }
                y[oy * OW + ox] = m;
            }
        }
    }
}

/* cnnc-embed: averagePool */
/* out[n, c, oy, ox] = (sum of the input cells under the window) / (window size), padded
 * cells counted in the size (PyTorch's count_include_pad) but not cells of a window
 * that hangs past the padded extent in ceil mode: the window [y0, y0 + KH) is clipped
 * to [-PT, H + PB) before counting, as PyTorch does.
 * in [N, C, H, W], out [N, C, OH, OW]. */
static void k_avgpool(float *restrict out, const float *restrict in, int batch, const k_pool_shape *s)
{
    const int H = s->in_h, W = s->in_w, OH = s->out_h, OW = s->out_w;
    const size_t planes = (size_t)batch * s->channels;
    size_t plane;
    int oy, ox, iy, ix;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * H * W;
        float *y = out + plane * OH * OW;
        for (oy = 0; oy < OH; oy++) {
            const int y0 = oy * s->stride_h - s->pad_top;
            const int y1 = y0 + s->k_h < H + s->pad_bottom ? y0 + s->k_h : H + s->pad_bottom;
            const int ya = y0 > 0 ? y0 : 0, yb = y1 < H ? y1 : H;
            for (ox = 0; ox < OW; ox++) {
                const int x0 = ox * s->stride_w - s->pad_left;
                const int x1 = x0 + s->k_w < W + s->pad_right ? x0 + s->k_w : W + s->pad_right;
                const int xa = x0 > 0 ? x0 : 0, xb = x1 < W ? x1 : W;
                float sum = 0.0f;
                for (iy = ya; iy < yb; iy++) {
                    for (ix = xa; ix < xb; ix++) sum += x[iy * W + ix];
                }
                y[oy * OW + ox] = sum / (float)((y1 - y0) * (x1 - x0));
            }
        }
    }
}

/* cnnc-embed: globalMaxPool */
/* out[n, c] = max over p of in[n, c, p], NaN if any is (PyTorch). in [N, C, P], out [N, C]. */
static void k_global_maxpool(float *restrict out, const float *restrict in, int batch, int channels, int spatial)
{
    const size_t planes = (size_t)batch * channels;
    size_t plane;
    int p;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * spatial;
        float m = x[0];
        for (p = 1; p < spatial; p++) m = x[p] > m || isnan(x[p]) ? x[p] : m;
        out[plane] = m;
    }
}

/* cnnc-embed: globalAveragePool */
/* out[n, c] = mean over p of in[n, c, p]. in [N, C, P], out [N, C]. */
static void k_global_avgpool(float *restrict out, const float *restrict in, int batch, int channels, int spatial)
{
    const size_t planes = (size_t)batch * channels;
    size_t plane;
    int p;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * spatial;
        float sum = 0.0f;
        for (p = 0; p < spatial; p++) sum += x[p];
        out[plane] = sum / (float)spatial;
    }
}

/* cnnc-embed: batchNorm */
typedef struct {
    int channels, spatial;
    int act;
    float alpha;
} k_batchnorm_shape;

/* out[n, c, p] = act(in[n, c, p] * scale[c] + shift[c]), where scale = gamma/sqrt(var + eps)
 * and shift = beta - mean * scale were computed when the weights were packed.
 * in, out [N, C, P]; scale, shift [C]. */
static void k_batchnorm(float *restrict out, const float *restrict in, const float *restrict scale,
                        const float *restrict shift, int batch, const k_batchnorm_shape *s)
{
    const int C = s->channels, P = s->spatial;
    int n, c, p;
    for (n = 0; n < batch; n++) {
        for (c = 0; c < C; c++) {
            const float *x = in + ((size_t)n * C + c) * P;
            float *y = out + ((size_t)n * C + c) * P;
            for (p = 0; p < P; p++) y[p] = x[p] * scale[c] + shift[c];
        }
        if (s->act != K_NONE) k_activate(out + (size_t)n * C * P, C, P, s->act, s->alpha);
    }
}

/* cnnc-embed: localResponseNorm */
typedef struct {
    int channels, spatial, size;
    float alpha, beta, k;
} k_lrn_shape;

/* Local response normalisation across channels, PyTorch's formula:
 * out[n, c, p] = in[n, c, p] / (k + alpha/size * sum over j of in[n, j, p]^2)^beta
 * for j from c - size/2 to c + (size-1)/2 (clipped to the channels).
 * in, out [N, C, P]. */
static void k_lrn(float *restrict out, const float *restrict in, int batch, const k_lrn_shape *s)
{
    const int C = s->channels, P = s->spatial;
    const float scale = s->alpha / (float)s->size;
    int n, c, j, p;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * C * P;
        float *y = out + (size_t)n * C * P;
        for (c = 0; c < C; c++) {
            const int lo = c - s->size / 2 > 0 ? c - s->size / 2 : 0;
            const int hi = c + (s->size - 1) / 2 < C - 1 ? c + (s->size - 1) / 2 : C - 1;
            float *yc = y + (size_t)c * P;
            const float *xc = x + (size_t)c * P;
            for (p = 0; p < P; p++) yc[p] = 0.0f;
            for (j = lo; j <= hi; j++) {
                const float *xj = x + (size_t)j * P;
                for (p = 0; p < P; p++) yc[p] += xj[p] * xj[p];
            }
            for (p = 0; p < P; p++) yc[p] = xc[p] / powf(s->k + scale * yc[p], s->beta);
        }
    }
}

/* cnnc-embed: activation */
typedef struct {
    int channels, spatial;
    int act;
    float alpha;
} k_activation_shape;

/* out[n] = act(in[n]) for each image of [C, P] values. */
static void k_activation(float *restrict out, const float *restrict in, int batch, const k_activation_shape *s)
{
    const size_t count = (size_t)s->channels * s->spatial;
    int n;
    memcpy(out, in, (size_t)batch * count * sizeof(float));
    for (n = 0; n < batch; n++) k_activate(out + (size_t)n * count, s->channels, s->spatial, s->act, s->alpha);
}

/* cnnc-embed: add */
typedef struct {
    int inputs;
    int channels, spatial;   /* per image */
    int act;
    float alpha;
} k_add_shape;

/* out[i] = act(in[0][i] + in[1][i] + ...). Every tensor [N, C, P]. */
static void k_add(float *restrict out, const float *const *in, int batch, const k_add_shape *s)
{
    const size_t count = (size_t)s->channels * s->spatial, total = (size_t)batch * count;
    size_t i;
    int j, n;
    for (i = 0; i < total; i++) out[i] = in[0][i];
    for (j = 1; j < s->inputs; j++) {
        const float *x = in[j];
        for (i = 0; i < total; i++) out[i] += x[i];
    }
    if (s->act != K_NONE) {
        for (n = 0; n < batch; n++) k_activate(out + (size_t)n * count, s->channels, s->spatial, s->act, s->alpha);
    }
}

/* cnnc-embed: multiply */
typedef struct {
    int inputs;
    int channels, spatial;     /* per image, of the output */
    const int *input_spatial;  /* per input: `spatial`, or 1 to broadcast one value per channel */
    int act;
    float alpha;
} k_mul_shape;

/* out[c, p] = act(in[0][c, p] * in[1][c, p] * ...), where an input of one position per
 * channel (squeeze-excitation's 1x1xC scale) is read at [c, 0]. Every tensor [N, C, P_j]. */
static void k_mul(float *restrict out, const float *const *in, int batch, const k_mul_shape *s)
{
    const size_t count = (size_t)s->channels * s->spatial;
    int n, c, j;
    size_t p;
    for (n = 0; n < batch; n++) {
        float *y = out + (size_t)n * count;
        for (j = 0; j < s->inputs; j++) {
            const int broadcast = s->input_spatial[j] == 1 && s->spatial != 1;
            const float *x = in[j] + (size_t)n * s->channels * (broadcast ? 1 : s->spatial);
            for (c = 0; c < s->channels; c++) {
                float *row = y + (size_t)c * s->spatial;
                if (broadcast) {
                    const float v = x[c];
                    if (j == 0) for (p = 0; p < (size_t)s->spatial; p++) row[p] = v;
                    else for (p = 0; p < (size_t)s->spatial; p++) row[p] *= v;
                } else {
                    const float *xr = x + (size_t)c * s->spatial;
                    if (j == 0) for (p = 0; p < (size_t)s->spatial; p++) row[p] = xr[p];
                    else for (p = 0; p < (size_t)s->spatial; p++) row[p] *= xr[p];
                }
            }
        }
        if (s->act != K_NONE) k_activate(y, s->channels, s->spatial, s->act, s->alpha);
    }
}

/* cnnc-embed: concat */
typedef struct {
    int inputs;
    const int *channels;     /* each input's channels */
    int spatial;             /* H*W, the same for every input */
    int act;
    float alpha;
} k_concat_shape;

/* out[n] = act(in[0][n] ++ in[1][n] ++ ...) along channels.
 * in[j] [N, C_j, P], out [N, sum of C_j, P]. */
static void k_concat(float *restrict out, const float *const *in, int batch, const k_concat_shape *s)
{
    size_t total = 0, offset;
    int j, n;
    for (j = 0; j < s->inputs; j++) total += (size_t)s->channels[j] * s->spatial;
    for (n = 0; n < batch; n++) {
        float *y = out + (size_t)n * total;
        offset = 0;
        for (j = 0; j < s->inputs; j++) {
            const size_t count = (size_t)s->channels[j] * s->spatial;
            memcpy(y + offset, in[j] + (size_t)n * count, count * sizeof(float));
            offset += count;
        }
        if (s->act != K_NONE) k_activate(y, (int)(total / (size_t)s->spatial), s->spatial, s->act, s->alpha);
    }
}

/* cnnc-embed: gatherChannels */
typedef struct {
    int in_channels, out_channels, spatial;
    const int *source;  /* per output channel: the input channel it copies */
} k_gather_shape;

/* out[c, p] = in[source[c], p]: slice (a run of channels) and shuffle (an interleaving).
 * in [N, in_channels, P], out [N, out_channels, P]. */
static void k_gather_channels(float *restrict out, const float *restrict in, int batch, const k_gather_shape *s)
{
    const size_t plane = (size_t)s->spatial;
    int n, c;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * s->in_channels * plane;
        float *y = out + (size_t)n * s->out_channels * plane;
        for (c = 0; c < s->out_channels; c++) memcpy(y + (size_t)c * plane, x + (size_t)s->source[c] * plane, plane * sizeof(float));
    }
}

/* cnnc-embed: layerNorm */
typedef struct {
    int channels, spatial;
    double eps;
} k_layernorm_shape;

/* LayerNorm over the channels at each position p (convnext's), mean and biased variance in
 * double: y[c, p] = (x[c, p] - mean_p) / sqrt(var_p + eps) * weight[c] + bias[c].
 * in, out [N, C, P]; weight, bias [C]. */
static void k_layernorm(float *restrict out, const float *restrict in, const float *restrict weight,
                        const float *restrict bias, int batch, const k_layernorm_shape *s)
{
    const size_t plane = (size_t)s->spatial, count = (size_t)s->channels * plane;
    int n, c;
    size_t p;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * count;
        float *y = out + (size_t)n * count;
        for (p = 0; p < plane; p++) {
            double mean = 0, var = 0, inv;
            for (c = 0; c < s->channels; c++) mean += x[(size_t)c * plane + p];
            mean /= s->channels;
            for (c = 0; c < s->channels; c++) {
                const double d = x[(size_t)c * plane + p] - mean;
                var += d * d;
            }
            inv = 1.0 / sqrt(var / s->channels + s->eps);
            for (c = 0; c < s->channels; c++)
                y[(size_t)c * plane + p] = (float)((x[(size_t)c * plane + p] - mean) * inv * weight[c] + bias[c]);
        }
    }
}

/* cnnc-embed: maxout */
typedef struct {
    int out_channels, pieces, spatial;
} k_maxout_shape;

/* out[n, c, p] = max over j < K of in[n, c*K + j, p]; a NaN among them gives NaN (torch's max).
 * in [N, C*K, P], out [N, C, P]. */
static void k_maxout(float *restrict out, const float *restrict in, int batch, const k_maxout_shape *s)
{
    const size_t P = (size_t)s->spatial;
    const size_t planes = (size_t)batch * s->out_channels;
    size_t plane, p;
    int j;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * s->pieces * P;
        float *y = out + plane * P;
        for (p = 0; p < P; p++) y[p] = x[p];
        for (j = 1; j < s->pieces; j++) {
            const float *xj = x + (size_t)j * P;
            for (p = 0; p < P; p++) y[p] = xj[p] > y[p] || isnan(xj[p]) ? xj[p] : y[p];
        }
    }
}

/* cnnc-embed: copy */
/* out = in, `count` floats per image. */
static void k_copy(float *restrict out, const float *restrict in, int batch, size_t count)
{
    memcpy(out, in, (size_t)batch * count * sizeof(float));
}

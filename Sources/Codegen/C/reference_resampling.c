/* reference_resampling.c: the plain C kernels that change a plane's size (CKernels.swift):
 * the border of a conv's padmode, adaptive average pooling, transposed convolution and
 * upsampling; sections as in reference_kernels.c, after its kernels in ReferenceKernel's order.
 * The include below is not embedded: it gives this file, checked alone, the helpers it calls. */
#include "reference_kernels.c"

/* cnnc-embed: pad */
typedef struct {
    int channels, in_h, in_w;
    int pad_top, pad_left, pad_bottom, pad_right;
    int mode;                  /* 1 reflect, 2 replicate, 3 circular (torch's padding_mode) */
} k_pad_shape;

/* Where padded coordinate i (-pad..size+pad) reads: reflect mirrors about the edge cell
 * without repeating it, replicate repeats the edge, circular wraps. The checker keeps
 * pad < size for reflect and pad <= size for circular, so one step suffices. */
static int k_pad_source(int i, int size, int mode)
{
    if (i >= 0 && i < size) return i;
    if (mode == 1) return i < 0 ? -i : 2 * (size - 1) - i;
    if (mode == 2) return i < 0 ? 0 : size - 1;
    return i < 0 ? i + size : i - size;
}

/* out[n, c, y, x] = in[n, c, src(y - PT, H), src(x - PL, W)].
 * in [N, C, H, W], out [N, C, H + PT + PB, W + PL + PR]. */
static void k_pad(float *restrict out, const float *restrict in, int batch, const k_pad_shape *s)
{
    const int H = s->in_h, W = s->in_w;
    const int OH = H + s->pad_top + s->pad_bottom, OW = W + s->pad_left + s->pad_right;
    const size_t planes = (size_t)batch * s->channels;
    size_t plane;
    int oy, ox;
    for (plane = 0; plane < planes; plane++) {
        const float *x = in + plane * H * W;
        float *y = out + plane * OH * OW;
        for (oy = 0; oy < OH; oy++) {
            const float *xr = x + (size_t)k_pad_source(oy - s->pad_top, H, s->mode) * W;
            for (ox = 0; ox < OW; ox++) y[oy * OW + ox] = xr[k_pad_source(ox - s->pad_left, W, s->mode)];
        }
    }
}

/* cnnc-embed: adaptiveAveragePool */
typedef struct {
    int channels, in_h, in_w, out_h, out_w;
} k_adaptive_shape;

/* torch's AdaptiveAvgPool2d: out[n, c, i, j] = mean of in[n, c, y, x] over
 * floor(i*H/OH) <= y < ceil((i+1)*H/OH) and floor(j*W/OW) <= x < ceil((j+1)*W/OW),
 * summed in double. in [N, C, H, W], out [N, C, OH, OW]. */
static void k_adaptive_avgpool(float *restrict out, const float *restrict in, int batch, const k_adaptive_shape *s)
{
    const int H = s->in_h, W = s->in_w, OH = s->out_h, OW = s->out_w;
    const size_t planes = (size_t)batch * s->channels;
    size_t plane;
    int i, j, y, x;
    for (plane = 0; plane < planes; plane++) {
        const float *xp = in + plane * H * W;
        float *yp = out + plane * OH * OW;
        for (i = 0; i < OH; i++) {
            const int y0 = (int)((long long)i * H / OH), y1 = (int)(((long long)(i + 1) * H + OH - 1) / OH);
            for (j = 0; j < OW; j++) {
                const int x0 = (int)((long long)j * W / OW), x1 = (int)(((long long)(j + 1) * W + OW - 1) / OW);
                double sum = 0.0;
                for (y = y0; y < y1; y++) {
                    for (x = x0; x < x1; x++) sum += xp[y * W + x];
                }
                yp[i * OW + j] = (float)(sum / ((double)(y1 - y0) * (x1 - x0)));
            }
        }
    }
}

/* cnnc-embed: transposedConvolution */
typedef struct {
    int in_c, in_h, in_w;      /* input  [C, H, W] per image */
    int out_c, out_h, out_w;   /* output [K, OH, OW] per image, output padding included */
    int k_h, k_w;
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;     /* torch's padding: output cells cropped before the first row / column */
    int groups;
    int act;
    float alpha;
} k_deconv_shape;

/* torch's conv_transpose2d, as a scatter: input cell (iy, ix) of channel c adds
 * weight[c, j, ky, kx] * x to output (iy*SH - PT + ky*DH, ix*SW - PL + kx*DW) of channel
 * g*K/G + j, where g = c / (C/G); cells outside the output are dropped.
 * in [N, C, H, W], weight [C, K/G, KH, KW], bias [K] or NULL, out [N, K, OH, OW]. */
static void k_deconv2d(float *restrict out, const float *restrict in, const float *restrict weight,
                       const float *restrict bias, int batch, const k_deconv_shape *s)
{
    const int C = s->in_c, H = s->in_h, W = s->in_w, K = s->out_c, OH = s->out_h, OW = s->out_w;
    const int KH = s->k_h, KW = s->k_w, CG = C / s->groups, KG = K / s->groups;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    int n, k, c, j, ky, kx, iy, ix;
    for (n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * C * in_plane;
        float *y = out + (size_t)n * K * out_plane;
        for (k = 0; k < K; k++) {
            const float b = bias ? bias[k] : 0.0f;
            size_t i;
            for (i = 0; i < out_plane; i++) y[(size_t)k * out_plane + i] = b;
        }
        for (c = 0; c < C; c++) {
            const float *xc = x + (size_t)c * in_plane;
            for (j = 0; j < KG; j++) {
                float *yk = y + (size_t)((c / CG) * KG + j) * out_plane;
                const float *wk = weight + ((size_t)c * KG + j) * KH * KW;
                for (ky = 0; ky < KH; ky++) {
                    for (iy = 0; iy < H; iy++) {
                        const int oy = iy * s->stride_h - s->pad_top + ky * s->dilation_h;
                        if (oy < 0 || oy >= OH) continue;
                        for (kx = 0; kx < KW; kx++) {
                            const float w = wk[ky * KW + kx];
                            for (ix = 0; ix < W; ix++) {
                                const int ox = ix * s->stride_w - s->pad_left + kx * s->dilation_w;
                                if (ox >= 0 && ox < OW) yk[(size_t)oy * OW + ox] += w * xc[(size_t)iy * W + ix];
                            }
                        }
                    }
                }
            }
        }
        if (s->act != K_NONE) k_activate(y, K, OH * OW, s->act, s->alpha);
    }
}

/* cnnc-embed: upsample */
typedef struct {
    int channels, in_h, in_w, out_h, out_w;
    int bilinear, align_corners;
} k_upsample_shape;

/* Where output index o reads along an axis of `in` cells scaled to `out`: cells i0 and i1,
 * i1 weighted by *lambda. torch's upsample_nearest2d (floor(o / scale)) and upsample_bilinear2d
 * (source (o + 0.5)/scale - 0.5 clamped at 0, or o*(in - 1)/(out - 1) with corners aligned). */
static int k_upsample_source(int o, int in, int out, int bilinear, int align, int *i1, float *lambda)
{
    double src;
    int i0;
    if (!bilinear) {
        i0 = (int)(((long long)o * in) / out);
        *i1 = i0;
        *lambda = 0.0f;
        return i0;
    }
    if (align) src = out > 1 ? (double)o * (in - 1) / (out - 1) : 0.0;
    else {
        src = ((double)o + 0.5) * in / out - 0.5;
        if (src < 0) src = 0;
    }
    i0 = (int)src;
    *i1 = i0 < in - 1 ? i0 + 1 : i0;
    *lambda = (float)(src - i0);
    return i0;
}

/* out[c, oy, ox] = (1-ly)*((1-lx)*in[c, y0, x0] + lx*in[c, y0, x1]) + ly*((1-lx)*in[c, y1, x0] + lx*in[c, y1, x1]);
 * nearest is lx = ly = 0. in [N, C, H, W], out [N, C, OH, OW]. */
static void k_upsample(float *restrict out, const float *restrict in, int batch, const k_upsample_shape *s)
{
    const size_t in_plane = (size_t)s->in_h * s->in_w, out_plane = (size_t)s->out_h * s->out_w;
    int n, c, oy, ox;
    for (n = 0; n < batch; n++) {
        for (c = 0; c < s->channels; c++) {
            const float *x = in + ((size_t)n * s->channels + c) * in_plane;
            float *y = out + ((size_t)n * s->channels + c) * out_plane;
            for (oy = 0; oy < s->out_h; oy++) {
                int y1, x1;
                float ly, lx;
                const int y0 = k_upsample_source(oy, s->in_h, s->out_h, s->bilinear, s->align_corners, &y1, &ly);
                for (ox = 0; ox < s->out_w; ox++) {
                    const int x0 = k_upsample_source(ox, s->in_w, s->out_w, s->bilinear, s->align_corners, &x1, &lx);
                    const float *r0 = x + (size_t)y0 * s->in_w, *r1 = x + (size_t)y1 * s->in_w;
                    if (!s->bilinear) y[(size_t)oy * s->out_w + ox] = r0[x0];
                    else y[(size_t)oy * s->out_w + ox] = (1.0f - ly) * ((1.0f - lx) * r0[x0] + lx * r0[x1])
                                                         + ly * ((1.0f - lx) * r1[x0] + lx * r1[x1]);
                }
            }
        }
    }
}

/* Classify one handwritten digit with the LeNet-5 that cnnc generated, weights included.
 *
 *   cnnc compile models/lenet5.cnn --emit c --embed-weights --weights lenet5.safetensors -o .
 *   cc -std=c99 -O2 -o lenet5_digit main.c lenet5.c -lm
 *   ./lenet5_digit digit.pgm
 *
 * The image is a 32x32 grey-scale PGM (P5 binary or P2 plain text); samples are scaled to
 * [0, 1] by dividing by the file's maxval, as `cnnc run` does. The program prints the ten
 * class probabilities, one per line, and the most likely digit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lenet5.h"

/* Reads the next header number, skipping whitespace and # comments. -1 on failure. */
static long read_number(FILE *file)
{
    int c = fgetc(file);
    long value = 0;
    int digits = 0;
    for (;;) {
        while (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') c = fgetc(file);
        if (c != '#') break;
        while (c != '\n' && c != EOF) c = fgetc(file);
    }
    while (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
        if (value > 65535) return -1;
        digits++;
        c = fgetc(file);
    }
    /* Binary pixels start right after the single whitespace byte that ends maxval, which
     * this fgetc has consumed; a digit run ended by anything else is an error. */
    if (digits == 0 || (c != EOF && c != ' ' && c != '\t' && c != '\n' && c != '\r')) return -1;
    return value;
}

/* Fills image[32*32] from a P5 or P2 PGM file; returns 0 or prints why not and returns 1. */
static int read_pgm(const char *path, float *image, int width, int height)
{
    FILE *file = fopen(path, "rb");
    char magic[2];
    long w, h, maxval;
    int x;
    if (file == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    if (fread(magic, 1, 2, file) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '2')) {
        fprintf(stderr, "%s: not a PGM file (expected P5 or P2)\n", path);
        fclose(file);
        return 1;
    }
    w = read_number(file);
    h = read_number(file);
    maxval = read_number(file);
    if (w != width || h != height || maxval < 1) {
        fprintf(stderr, "%s: expected a %dx%d PGM, found %ldx%ld (maxval %ld)\n", path, width, height, w, h, maxval);
        fclose(file);
        return 1;
    }
    for (x = 0; x < width * height; x++) {
        long v;
        if (magic[1] == '5') {
            int hi = fgetc(file), lo = 0;
            if (hi != EOF && maxval > 255) lo = fgetc(file);
            if (hi == EOF || lo == EOF) {
                fprintf(stderr, "%s: the image ends after %d of %d pixels\n", path, x, width * height);
                fclose(file);
                return 1;
            }
            v = maxval > 255 ? hi * 256L + lo : hi;
        } else {
            v = read_number(file);
            if (v < 0) {
                fprintf(stderr, "%s: bad pixel %d\n", path, x);
                fclose(file);
                return 1;
            }
        }
        if (v > maxval) v = maxval;
        image[x] = (float)v / (float)maxval;
    }
    fclose(file);
    return 0;
}

int main(int argc, char **argv)
{
    float image[LENET5_INPUT_SIZE];
    float probabilities[LENET5_OUTPUT_SIZE];
    float *workspace;
    int digit, best = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIGIT.pgm   (a 32x32 grey-scale image)\n", argv[0]);
        return 2;
    }
    if (read_pgm(argv[1], image, 32, 32) != 0) return 1;

    workspace = malloc(lenet5_workspace_size(1));
    if (workspace == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (lenet5_run(lenet5_embedded_weights, workspace, image, probabilities, 1) != 0) {
        fprintf(stderr, "lenet5_run failed\n");
        free(workspace);
        return 1;
    }
    free(workspace);

    for (digit = 0; digit < LENET5_OUTPUT_SIZE; digit++) {
        printf("%d %.6f\n", digit, probabilities[digit]);
        if (probabilities[digit] > probabilities[best]) best = digit;
    }
    printf("digit %d\n", best);
    return 0;
}

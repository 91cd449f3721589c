// How the fast C's entry point runs a batch: every step over the whole batch, or image by
// image (KernelPlan.imageByImage). Image by image, an image's values stay in the caches
// between steps, and on several threads each thread runs whole images in its own arena
// slot with no hand-off between steps; the measurements behind the choice are in
// KernelPlanner.chooseImageSchedule.

extension FastCEmitter {
    /// The task that runs images [begin, end) each on the calling thread alone, image n in
    /// arena slot n (the workspace holds batch slots). Empty when the plan runs whole batches.
    func imageTask() -> String {
        guard plan.imageByImage else { return "" }
        let arena = plan.arenaElements > 0 ? "a->arena + (size_t)n * \(macroPrefix)_ARENA_SIZE" : "a->arena"
        var c = CWriter()
        // The profile build times each step over the whole batch, so it has no image tasks.
        c.line("#if !defined(CNNC_PROFILE)")
        c.line("/* Images [begin, end) of an image-by-image run, each on this thread alone in arena slot n. */")
        c.function("static void cnnc_image_task(const cnnc_args *a, int begin, int end, float *scratch)") { c in
            c.line("int n;")
            c.line("for (n = begin; n < end; n++)")
            c.line("    cnnc_steps(a->w, \(arena), scratch, a->in + (size_t)n * \(macroPrefix)_INPUT_SIZE,")
            c.line("               a->out + (size_t)n * \(macroPrefix)_OUTPUT_SIZE, 1, 1);")
        }
        c.line("#endif")
        return c.text
    }

    /// The entry point's call of cnnc_steps: once for the batch, or image by image.
    func imageSchedule() -> String {
        let whole = "cnnc_steps(weights, workspace, cnnc_scratch0, input, output, batch, cnnc_threads);"
        guard plan.imageByImage else { return whole }
        let input = "\(macroPrefix)_INPUT_SIZE", output = "\(macroPrefix)_OUTPUT_SIZE"
        return """
            #if !defined(CNNC_PROFILE)
            if (batch > 1) {
                /* Whole images per thread; the images that do not fill a round share the threads. */
                const int whole = cnnc_threads > 1 ? batch - batch % cnnc_threads : batch;
                if (cnnc_threads > 1) {
                    const cnnc_args cnnc_a = { output, input, NULL, NULL, weights, NULL, 1, workspace };
                    cnnc_parallel(cnnc_image_task, &cnnc_a, whole, cnnc_threads, cnnc_scratch0);
                } else {
                    int n;
                    for (n = 0; n < whole; n++)
                        cnnc_steps(weights, workspace, cnnc_scratch0, input + (size_t)n * \(input),
                                   output + (size_t)n * \(output), 1, 1);
                }
                if (whole < batch)
                    cnnc_steps(weights, workspace, cnnc_scratch0, input + (size_t)whole * \(input),
                               output + (size_t)whole * \(output), batch - whole, cnnc_threads);
            } else
            #endif
            \(whole)
            """
    }
}

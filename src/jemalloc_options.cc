// jemalloc's options for the release binary, which links it (CMakeLists.txt).
// jemalloc reads this symbol when it initializes; MALLOC_CONF in the
// environment is read after it and overrides it.
//
// By default jemalloc keeps freed pages for 10 s before returning them to the
// kernel, and only purges them while the process allocates. The service frees
// in bursts (a flushed 16 MiB memtable, RocksDB's compaction buffers, evicted
// read-cache answers), so after the benchmark's mixed load a POST soak held
// 158-168 MiB of RSS, 65 MiB of it freed pages. A background thread returning
// them after 1 s brought that run to 148-157 MiB, at no measurable cost in
// POST throughput (docs/performance.md, memory).
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): jemalloc's interface
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000";
}

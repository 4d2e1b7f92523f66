#pragma once
// A process the benchmark starts (daybook serve, daybook replay, the Kafka Streams peer), with
// what it costs: CPU seconds, peak resident memory and bytes written to storage, read from /proc
// while it runs and from wait4's rusage when it ends. Stopped by its PID only.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace daybook::bench {

struct process_usage {
    double cpu_seconds = 0;            // user + system
    std::int64_t peak_rss_kib = 0;     // VmHWM
    std::int64_t rss_kib = 0;          // VmRSS now
    std::int64_t write_bytes = 0;      // /proc/PID/io write_bytes (reached storage)
};

class bench_process {
public:
    // Starts argv[0] with stdout and stderr written to log_path (truncated first).
    bench_process(const std::vector<std::string>& argv, const std::string& log_path);
    ~bench_process();
    bench_process(const bench_process&) = delete;
    bench_process& operator=(const bench_process&) = delete;

    pid_t pid() const { return pid_; }
    bool running() const;
    process_usage usage() const;  // while it runs
    // Sends `signal`, waits up to timeout_s (then SIGKILL), returns the exit status (128+signal
    // when killed) and the final usage in `last`.
    int stop(int signal, int timeout_s, process_usage& last);
    // Waits for the process to exit by itself.
    int wait(process_usage& last);

private:
    int reap(bool block, process_usage& last);
    pid_t pid_ = -1;
    process_usage last_seen_;
};

// Size in bytes of every file under path (0 when missing).
std::int64_t directory_bytes(const std::string& path);

}  // namespace daybook::bench

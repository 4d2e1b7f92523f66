#include "bench/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace daybook::bench {

bench_process::bench_process(const std::vector<std::string>& argv, const std::string& log_path) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log_path);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fd);
}

bench_process::~bench_process() {
    if (pid_ > 0) {
        process_usage ignored;
        stop(SIGKILL, 10, ignored);
    }
}

bool bench_process::running() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

process_usage bench_process::usage() const {
    process_usage u;
    if (pid_ <= 0) return u;
    auto base = "/proc/" + std::to_string(pid_);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (std::getline(stat, line)) {
        // Fields after the command name (which may hold spaces) start at ") ".
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        std::string field;
        long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stol(field);
            if (i == 15) stime = std::stol(field);
        }
        u.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    std::ifstream status(base + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) u.peak_rss_kib = std::stoll(line.substr(6));
        if (line.rfind("VmRSS:", 0) == 0) u.rss_kib = std::stoll(line.substr(6));
    }
    std::ifstream io(base + "/io");
    while (std::getline(io, line))
        if (line.rfind("write_bytes:", 0) == 0) u.write_bytes = std::stoll(line.substr(12));
    return u;
}

int bench_process::reap(bool block, process_usage& last) {
    int status = 0;
    struct rusage ru {};
    pid_t r = ::wait4(pid_, &status, block ? 0 : WNOHANG, &ru);
    if (r != pid_) return -1;
    last = last_seen_;
    last.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    last.peak_rss_kib = std::max<std::int64_t>(last.peak_rss_kib, ru.ru_maxrss);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int bench_process::stop(int signal, int timeout_s, process_usage& last) {
    if (pid_ <= 0) return -1;
    last_seen_ = usage();  // /proc/PID/io is gone once it has exited
    ::kill(pid_, signal);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        if (int rc = reap(false, last); rc >= 0) return rc;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    return reap(true, last);
}

int bench_process::wait(process_usage& last) {
    for (;;) {
        if (auto u = usage(); u.peak_rss_kib > 0) last_seen_ = u;  // the last sample before it exits
        if (int rc = reap(false, last); rc >= 0) return rc;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::int64_t directory_bytes(const std::string& path) {
    std::int64_t total = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec); !ec && it != std::filesystem::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec)) total += static_cast<std::int64_t>(it->file_size(ec));
    return total;
}

}  // namespace daybook::bench

// WAL writes gathered per transaction (see wal_write_buffer.hpp).
#include "persistence/wal_write_buffer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace emporium::persistence {

namespace {

constexpr const char* vfs_name = "emporium-buffered-wal";
constexpr std::size_t buffer_cap = 1 << 20;
constexpr int reserve_chunk = 1 << 20;
// The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the
// length with 0x1ffff): a flush goes out in pieces of 31 pages.
constexpr std::size_t platform_write_max = 31 * 4096;

std::atomic<std::uint64_t> asked{0};
std::atomic<std::uint64_t> issued{0};
std::atomic<std::uint64_t> in_barrier{0};

/// A WAL frame's header (24 bytes, the only WAL write of that size: the
/// log's own header is 32) carries the database size in pages after a
/// commit in bytes 4-7, and 0 in every frame that does not end a commit.
constexpr int frame_header_size = 24;
bool ends_a_commit(const char* header) {
  return (header[4] | header[5] | header[6] | header[7]) != 0;
}

sqlite3_vfs* platform = nullptr; // the VFS every call ends in

/// Our part of an open file; SQLite allocates it (szOsFile bytes) and the
/// platform's file follows it in the same block.
struct shim_file {
  sqlite3_file base; // must come first: SQLite sees a sqlite3_file*
  sqlite3_file* real = nullptr;
  // A database file: the name it is registered under, and its WAL, while
  // open, whose frames the barrier flushes.
  const char* name = nullptr;
  shim_file* wal = nullptr;
  // A WAL file: its database file (to unlink on close) and the frames not
  // yet written, which belong at [start, start + pending.size()).
  shim_file* db = nullptr;
  std::vector<char> pending;
  sqlite3_int64 start = 0;
  sqlite3_int64 reserved = 0; // the file is allocated up to here
  bool commit_page_next = false; // the last write was a commit frame's header

  int flush() {
    int rc = SQLITE_OK;
    for (std::size_t done = 0; done < pending.size() && rc == SQLITE_OK;) {
      auto n = std::min(pending.size() - done, platform_write_max);
      issued.fetch_add(1, std::memory_order_relaxed);
      rc = real->pMethods->xWrite(real, pending.data() + done, static_cast<int>(n),
                                  start + static_cast<sqlite3_int64>(done));
      done += n;
    }
    pending.clear();
    return rc;
  }
};

shim_file* self(sqlite3_file* f) {
  return reinterpret_cast<shim_file*>(f);
}

/// Database files by the name SQLite opened them with: a WAL finds its
/// database through sqlite3_filename_database(), which returns that very
/// pointer (one per connection).
std::mutex files_mutex;
std::unordered_map<const char*, shim_file*>& databases() {
  static std::unordered_map<const char*, shim_file*> map;
  return map;
}

// -- calls passed on to the platform file unchanged --------------------------

int pass_read(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  return self(f)->real->pMethods->xRead(self(f)->real, out, n, off);
}
int pass_write(sqlite3_file* f, const void* in, int n, sqlite3_int64 off) {
  return self(f)->real->pMethods->xWrite(self(f)->real, in, n, off);
}
int pass_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return self(f)->real->pMethods->xTruncate(self(f)->real, size);
}
int pass_sync(sqlite3_file* f, int flags) {
  return self(f)->real->pMethods->xSync(self(f)->real, flags);
}
int pass_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return self(f)->real->pMethods->xFileSize(self(f)->real, size);
}
int pass_lock(sqlite3_file* f, int level) {
  return self(f)->real->pMethods->xLock(self(f)->real, level);
}
int pass_unlock(sqlite3_file* f, int level) {
  return self(f)->real->pMethods->xUnlock(self(f)->real, level);
}
int pass_check_reserved_lock(sqlite3_file* f, int* out) {
  return self(f)->real->pMethods->xCheckReservedLock(self(f)->real, out);
}
int pass_file_control(sqlite3_file* f, int op, void* arg) {
  return self(f)->real->pMethods->xFileControl(self(f)->real, op, arg);
}
int pass_sector_size(sqlite3_file* f) {
  return self(f)->real->pMethods->xSectorSize(self(f)->real);
}
int pass_device_characteristics(sqlite3_file* f) {
  return self(f)->real->pMethods->xDeviceCharacteristics(self(f)->real);
}
int pass_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return self(f)->real->pMethods->xShmMap(self(f)->real, region, size, extend, out);
}
int pass_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return self(f)->real->pMethods->xShmLock(self(f)->real, offset, n, flags);
}
void pass_shm_barrier(sqlite3_file* f) {
  self(f)->real->pMethods->xShmBarrier(self(f)->real);
}
int pass_shm_unmap(sqlite3_file* f, int remove) {
  return self(f)->real->pMethods->xShmUnmap(self(f)->real, remove);
}
int pass_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return self(f)->real->pMethods->xFetch(self(f)->real, off, n, out);
}
int pass_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return self(f)->real->pMethods->xUnfetch(self(f)->real, off, p);
}

int close_other(sqlite3_file* f) {
  auto* s = self(f);
  int rc = s->real->pMethods->xClose(s->real);
  s->~shim_file();
  return rc;
}

// -- the database file: its barrier publishes a commit -----------------------

void db_shm_barrier(sqlite3_file* f) {
  auto* s = self(f);
  // Normally empty: the commit frame's page flushed what it ended. A
  // flush here lengthens the moment in which the header's two copies
  // differ, and a reader waits that moment out.
  int rc = SQLITE_OK;
  if (s->wal && !s->wal->pending.empty()) {
    in_barrier.fetch_add(1, std::memory_order_relaxed);
    rc = s->wal->flush();
  }
  if (rc != SQLITE_OK) {
    // The commit is half published (the header's first copy); carrying on
    // would make readers trust frames that are not in the file. Stopping
    // here leaves a WAL that recovery reads up to the last whole commit.
    std::fprintf(stderr,
                 "emporium: cannot write the SQLite write-ahead log (%s); stopping before a "
                 "commit without its data becomes visible\n",
                 sqlite3_errstr(rc));
    std::abort();
  }
  pass_shm_barrier(f);
}

/// Refuses `PRAGMA locking_mode=EXCLUSIVE`: in that mode SQLite keeps the
/// wal-index in heap memory and publishes a commit without the barrier,
/// so buffered frames could outlive a commit that a crash then loses.
int db_file_control(sqlite3_file* f, int op, void* arg) {
  if (op == SQLITE_FCNTL_PRAGMA) {
    auto** args = static_cast<char**>(arg); // [error out, name, value]
    if (args[1] && args[2] && sqlite3_stricmp(args[1], "locking_mode") == 0 &&
        sqlite3_stricmp(args[2], "exclusive") == 0) {
      args[0] = sqlite3_mprintf("locking_mode=exclusive is not supported by the %s VFS",
                                vfs_name);
      return SQLITE_ERROR;
    }
  }
  return pass_file_control(f, op, arg);
}

int db_close(sqlite3_file* f) {
  auto* s = self(f);
  {
    std::lock_guard lock{files_mutex};
    databases().erase(s->name);
    if (s->wal)
      s->wal->db = nullptr;
  }
  return close_other(f);
}

// -- the WAL file: writes gathered until something needs them ---------------

/// Makes sure the file has blocks up to `end`, so that the later flush
/// cannot meet a full disk.
int reserve(shim_file* s, sqlite3_int64 end) {
  if (end <= s->reserved)
    return SQLITE_OK;
  sqlite3_int64 want = (end + reserve_chunk - 1) / reserve_chunk * reserve_chunk;
  int rc = s->real->pMethods->xFileControl(s->real, SQLITE_FCNTL_SIZE_HINT, &want);
  if (rc == SQLITE_NOTFOUND)
    rc = SQLITE_OK; // the platform cannot reserve: as without the buffer
  if (rc != SQLITE_OK)
    return rc == SQLITE_IOERR_WRITE ? SQLITE_FULL : rc;
  s->reserved = want;
  return SQLITE_OK;
}

/// Keeps a write with the contiguous ones before it, or sends those out
/// first when it does not continue them.
int buffer_write(shim_file* s, sqlite3_file* f, const void* in, int n, sqlite3_int64 off) {
  auto bytes = static_cast<const char*>(in);
  auto size = static_cast<std::size_t>(n);
  auto end = s->start + static_cast<sqlite3_int64>(s->pending.size());
  // A frame rewritten within its transaction: overwrite it in place.
  if (!s->pending.empty() && off >= s->start && off + n <= end) {
    std::memcpy(s->pending.data() + (off - s->start), bytes, size);
    return SQLITE_OK;
  }
  bool appends = !s->pending.empty() && off == end;
  if (!appends || s->pending.size() + size > buffer_cap) {
    if (int rc = s->flush(); rc != SQLITE_OK)
      return rc;
    if (size > platform_write_max) {
      issued.fetch_add(1, std::memory_order_relaxed);
      return pass_write(f, in, n, off); // SQLite's own writes are a page at most
    }
    s->start = off;
  }
  if (int rc = reserve(s, off + n); rc != SQLITE_OK)
    return rc;
  try { // no C++ exception may cross SQLite's C frames
    s->pending.insert(s->pending.end(), bytes, bytes + size);
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/// A commit's frames go to the file as soon as its last frame is complete
/// (its header said so, then its page came): SQLite publishes the commit
/// in the wal-index right after, with no file call in between, so this is
/// the last moment before any reader can see it (see the header).
int wal_write(sqlite3_file* f, const void* in, int n, sqlite3_int64 off) {
  auto* s = self(f);
  asked.fetch_add(1, std::memory_order_relaxed);
  bool completes_commit = s->commit_page_next;
  s->commit_page_next = n == frame_header_size && ends_a_commit(static_cast<const char*>(in));
  int rc = buffer_write(s, f, in, n, off);
  if (rc == SQLITE_OK && completes_commit)
    rc = s->flush();
  return rc;
}

int wal_read(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  auto* s = self(f);
  auto end = s->start + static_cast<sqlite3_int64>(s->pending.size());
  if (!s->pending.empty() && off < end && off + n > s->start)
    if (int rc = s->flush(); rc != SQLITE_OK)
      return rc;
  return pass_read(f, out, n, off);
}

int wal_truncate(sqlite3_file* f, sqlite3_int64 size) {
  auto* s = self(f);
  if (int rc = s->flush(); rc != SQLITE_OK)
    return rc;
  s->reserved = std::min(s->reserved, size);
  return pass_truncate(f, size);
}

int wal_sync(sqlite3_file* f, int flags) {
  if (int rc = self(f)->flush(); rc != SQLITE_OK)
    return rc;
  return pass_sync(f, flags);
}

int wal_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = self(f)->flush(); rc != SQLITE_OK)
    return rc;
  return pass_file_size(f, size);
}

int wal_file_control(sqlite3_file* f, int op, void* arg) {
  if (int rc = self(f)->flush(); rc != SQLITE_OK)
    return rc;
  return pass_file_control(f, op, arg);
}

int wal_close(sqlite3_file* f) {
  auto* s = self(f);
  int flushed = s->flush();
  {
    std::lock_guard lock{files_mutex};
    if (s->db && s->db->wal == s)
      s->db->wal = nullptr;
  }
  int rc = close_other(f);
  return flushed != SQLITE_OK ? flushed : rc;
}

constexpr sqlite3_io_methods methods_for(bool wal, bool db) {
  sqlite3_io_methods m{};
  m.iVersion = 3;
  m.xClose = wal ? wal_close : db ? db_close : close_other;
  m.xRead = wal ? wal_read : pass_read;
  m.xWrite = wal ? wal_write : pass_write;
  m.xTruncate = wal ? wal_truncate : pass_truncate;
  m.xSync = wal ? wal_sync : pass_sync;
  m.xFileSize = wal ? wal_file_size : pass_file_size;
  m.xLock = pass_lock;
  m.xUnlock = pass_unlock;
  m.xCheckReservedLock = pass_check_reserved_lock;
  m.xFileControl = wal ? wal_file_control : db ? db_file_control : pass_file_control;
  m.xSectorSize = pass_sector_size;
  m.xDeviceCharacteristics = pass_device_characteristics;
  m.xShmMap = pass_shm_map;
  m.xShmLock = pass_shm_lock;
  m.xShmBarrier = db ? db_shm_barrier : pass_shm_barrier;
  m.xShmUnmap = pass_shm_unmap;
  m.xFetch = pass_fetch;
  m.xUnfetch = pass_unfetch;
  return m;
}

const sqlite3_io_methods wal_methods = methods_for(true, false);
const sqlite3_io_methods db_methods = methods_for(false, true);
const sqlite3_io_methods other_methods = methods_for(false, false);

int shim_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* s = new (f) shim_file{};
  s->base.pMethods = nullptr; // SQLite must not call xClose if the open fails
  s->real = reinterpret_cast<sqlite3_file*>(s + 1);
  int rc = platform->xOpen(platform, name, s->real, flags, out_flags);
  if (rc != SQLITE_OK || !s->real->pMethods || s->real->pMethods->iVersion < 3) {
    // Failed, or a platform file we cannot wrap whole (no shared memory):
    // close what was opened, as SQLite would for a failed open.
    if (s->real->pMethods)
      s->real->pMethods->xClose(s->real);
    s->~shim_file();
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if ((flags & SQLITE_OPEN_WAL) && name) {
    s->base.pMethods = &wal_methods;
    int chunk = reserve_chunk; // what SIZE_HINT (reserve) rounds up to and allocates
    s->real->pMethods->xFileControl(s->real, SQLITE_FCNTL_CHUNK_SIZE, &chunk);
    std::lock_guard lock{files_mutex};
    auto it = databases().find(sqlite3_filename_database(name));
    if (it != databases().end()) {
      s->db = it->second;
      it->second->wal = s;
    }
  } else if ((flags & SQLITE_OPEN_MAIN_DB) && name) {
    s->name = name;
    std::lock_guard lock{files_mutex};
    try { // no C++ exception may cross SQLite's C frames
      databases()[name] = s;
    } catch (const std::bad_alloc&) {
      s->real->pMethods->xClose(s->real);
      s->~shim_file();
      return SQLITE_NOMEM; // pMethods still null: SQLite will not close it again
    }
    s->base.pMethods = &db_methods;
  } else {
    s->base.pMethods = &other_methods;
  }
  return SQLITE_OK;
}

} // namespace

const char* buffered_wal_vfs() {
  static const char* registered = [] {
    platform = sqlite3_vfs_find(nullptr);
    static sqlite3_vfs vfs = *platform;
    vfs.szOsFile = static_cast<int>(sizeof(shim_file)) + platform->szOsFile;
    vfs.zName = vfs_name;
    vfs.pNext = nullptr;
    vfs.xOpen = shim_open;
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK)
      return static_cast<const char*>(nullptr);
    return vfs_name;
  }();
  return registered;
}

wal_write_counts wal_writes() {
  return {asked.load(std::memory_order_relaxed), issued.load(std::memory_order_relaxed),
          in_barrier.load(std::memory_order_relaxed)};
}

} // namespace emporium::persistence

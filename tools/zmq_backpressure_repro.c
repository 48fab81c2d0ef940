// Minimal repro of ttad's PUSH->PULL back-pressure path against the system libzmq: with a
// heartbeat timeout on the ingest socket, a daemon that stops reading under back-pressure has
// its live producer timed out by libzmq, and the samples in the kernel buffers are lost
// (docs/architecture.md, "Back-pressure and loss"). SocketOptions.configureIngest now sets no
// timeout under overflow = "block"; `--fix 1` does the same here.
//
//   gcc -O1 -o /tmp/zmq_repro tools/zmq_backpressure_repro.c -lzmq -lpthread
//   /tmp/zmq_repro --rcvhwm 4096 --total 10000 --rate 200 --hb-ivl 1000 --hb-timeout 3000 --hb-ttl 3000 --giveup 20          # LOST > 0
//   /tmp/zmq_repro --rcvhwm 4096 --total 10000 --rate 200 --hb-ivl 1000 --hb-timeout 3000 --hb-ttl 3000 --giveup 20 --fix 1  # LOST 0
//
// Consumer mirrors IOThread.swift + BoundedQueue.swift + SocketOptions.configureIngest;
// producer mirrors DaemonConnection + ScenarioSender (blocking 3-frame sends, SNDTIMEO 500 ms,
// give up after 60 s without progress).
#include <zmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <assert.h>

static int RATE = 35, HB_IVL = 10000, HB_TMO = 30000, RCVHWM = 16384, SNDHWM = 1000;
static int HB_TTL = 30000, FIX = 0, QCAP = 1024, TOTAL = 20000, GIVEUP = 60, PAYLOAD = 2352, WINDOW = 0;
static char ENDPOINT[256];
static volatile int producer_done = 0, stop_all = 0;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double T0;
#define LOG(...) do { fprintf(stderr, "[%7.2f] ", now() - T0); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } while (0)

// ---- BoundedQueue (block policy) --------------------------------------------------------
typedef struct { long seq; } item_t;
static item_t *ring; static int head = 0, count_ = 0;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static int q_isfull(void) { pthread_mutex_lock(&qlock); int f = count_ == QCAP; pthread_mutex_unlock(&qlock); return f; }
static int q_count(void) { pthread_mutex_lock(&qlock); int c = count_; pthread_mutex_unlock(&qlock); return c; }
static int q_offer(item_t e) {
    pthread_mutex_lock(&qlock);
    if (count_ == QCAP) { pthread_mutex_unlock(&qlock); return 0; }
    ring[(head + count_) % QCAP] = e; count_++;
    if (count_ == 1) pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock); return 1;
}
static void wake(void);
static int q_take(item_t *out, int max, double timeout) {
    pthread_mutex_lock(&qlock);
    if (count_ == 0) {
        struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)(timeout * 1e9); ts.tv_sec += ns / 1000000000L; ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&qcond, &qlock, &ts);
    }
    int wasFull = count_ == QCAP, n = count_ < max ? count_ : max;
    for (int i = 0; i < n; i++) { out[i] = ring[head]; head = (head + 1) % QCAP; }
    count_ -= n;
    pthread_mutex_unlock(&qlock);
    if (wasFull && n > 0) wake();        // onRoom
    return n;
}

// ---- wake-ups over an inproc PAIR (IOThread.wake) ------------------------------------------
static void *daemon_ctx, *wake_sender; static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static const char *CTL = "inproc://ttad-control";
static void wake(void) {
    pthread_mutex_lock(&wlock);
    if (wake_sender) { char b = 1; zmq_send(wake_sender, &b, 1, ZMQ_DONTWAIT); }
    pthread_mutex_unlock(&wlock);
}

// ---- stats ---------------------------------------------------------------------------------
static unsigned char *seen; static volatile long reordered = 0, dupes = 0; static volatile double maxblock = 0;
static volatile long received = 0, processed = 0, gaps = 0, last_seq = -1, sent = 0, polls = 0;

// ---- monitor threads (evidence: connection events) ------------------------------------------
typedef struct { void *ctx; void *sock; const char *name; const char *addr; } mon_t;
static void *monitor_main(void *arg) {
    mon_t *m = arg;
    void *s = zmq_socket(m->ctx, ZMQ_PAIR);
    zmq_connect(s, m->addr);
    int tmo = 200; zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    while (!stop_all) {
        zmq_msg_t a, b; zmq_msg_init(&a); zmq_msg_init(&b);
        if (zmq_msg_recv(&a, s, 0) < 0) { zmq_msg_close(&a); zmq_msg_close(&b); continue; }
        zmq_msg_recv(&b, s, 0);
        uint16_t ev; int32_t val; memcpy(&ev, zmq_msg_data(&a), 2); memcpy(&val, (char *)zmq_msg_data(&a) + 2, 4);
        const char *n = ev == ZMQ_EVENT_CONNECTED ? "CONNECTED" : ev == ZMQ_EVENT_ACCEPTED ? "ACCEPTED" :
            ev == ZMQ_EVENT_DISCONNECTED ? "DISCONNECTED" : ev == ZMQ_EVENT_CLOSED ? "CLOSED" :
            ev == ZMQ_EVENT_CONNECT_RETRIED ? "CONNECT_RETRIED" : ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ? "HANDSHAKE_SUCCEEDED" :
            ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "HANDSHAKE_FAILED_PROTOCOL" : ev == ZMQ_EVENT_CONNECT_DELAYED ? "CONNECT_DELAYED" :
            ev == ZMQ_EVENT_LISTENING ? "LISTENING" : "other";
        if (ev != ZMQ_EVENT_CONNECT_DELAYED && ev != ZMQ_EVENT_LISTENING)
            LOG("%s monitor: %s (0x%x, value %d)  [received %ld processed %ld sent %ld queue %d]", m->name, n, ev, val,
                received, processed, sent, q_count());
        zmq_msg_close(&a); zmq_msg_close(&b);
    }
    zmq_close(s); return NULL;
}

// ---- I/O thread (IOThread.run / readIngest) ------------------------------------------------
static void *pull_sock; static pthread_t dmon_thread;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER; static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER; static int ready = 0;
static void setopt(void *s, int o, int v) { int rc = zmq_setsockopt(s, o, &v, sizeof v); assert(rc == 0); }
static void *io_main(void *arg) {
    (void)arg;
    void *ctl = zmq_socket(daemon_ctx, ZMQ_PAIR); setopt(ctl, ZMQ_LINGER, 0); zmq_bind(ctl, CTL);
    void *ing = zmq_socket(daemon_ctx, ZMQ_PULL);
    setopt(ing, ZMQ_RCVHWM, RCVHWM);
    int64_t mms = 64 << 20; zmq_setsockopt(ing, ZMQ_MAXMSGSIZE, &mms, sizeof mms);
    setopt(ing, ZMQ_LINGER, 0); setopt(ing, ZMQ_RECONNECT_IVL, 100); setopt(ing, ZMQ_RECONNECT_IVL_MAX, 5000);
    if (HB_IVL > 0) {   // SocketOptions.configureIngest: setHeartbeat(interval:timeout:ttl:)
        setopt(ing, ZMQ_HEARTBEAT_IVL, HB_IVL);
        setopt(ing, ZMQ_HEARTBEAT_TIMEOUT, FIX ? 0 : HB_TMO);   // the fix: no timeout while back-pressure may stop reading
        setopt(ing, ZMQ_HEARTBEAT_TTL, HB_TTL);
    }
    zmq_socket_monitor(ing, "inproc://mon-pull", ZMQ_EVENT_ALL);
    static mon_t dm; dm = (mon_t){daemon_ctx, NULL, "daemon PULL  ", "inproc://mon-pull"}; pthread_create(&dmon_thread, NULL, monitor_main, &dm);
    int rc = zmq_bind(ing, "tcp://127.0.0.1:*"); assert(rc == 0);
    size_t l = sizeof ENDPOINT; zmq_getsockopt(ing, ZMQ_LAST_ENDPOINT, ENDPOINT, &l);
    pull_sock = ing;
    pthread_mutex_lock(&ready_lock); ready = 1; pthread_cond_broadcast(&ready_cond); pthread_mutex_unlock(&ready_lock);

    zmq_pollitem_t items[2] = {{ctl, 0, ZMQ_POLLIN, 0}, {ing, 0, ZMQ_POLLIN, 0}};
    zmq_msg_t part; zmq_msg_init(&part);
    while (!stop_all) {
        items[1].events = q_isfull() ? 0 : ZMQ_POLLIN;      // block && ingestQueue.isFull ? [] : .readable
        int n = zmq_poll(items, 2, 250); polls++;
        if (n <= 0) continue;
        if (items[0].revents & ZMQ_POLLIN) { char b; while (zmq_recv(ctl, &b, 1, ZMQ_DONTWAIT) >= 0) {} }
        if (items[1].revents & ZMQ_POLLIN) {
            for (int read = 0; read < 4096; read++) {
                if (q_isfull()) break;
                if (zmq_msg_recv(&part, ing, ZMQ_DONTWAIT) < 0) { assert(errno == EAGAIN); break; }
                int parts = 1; long seq = -1;
                if (zmq_msg_size(&part) >= 8) memcpy(&seq, zmq_msg_data(&part), 8);
                while (zmq_msg_more(&part)) { rc = zmq_msg_recv(&part, ing, 0); assert(rc >= 0); parts++; }
                assert(parts == 3);
                received++;
                item_t it = {seq};
                if (!q_offer(it)) { LOG("BUG: offer refused"); }
            }
        }
    }
    zmq_msg_close(&part); zmq_close(ing); zmq_close(ctl); return NULL;
}

// ---- processing thread (Pipeline: takeBatch, slow model) -------------------------------
static void *proc_main(void *arg) {
    (void)arg; item_t it;
    while (!stop_all) {
        if (q_take(&it, 1, 0.25) == 0) continue;
        if (it.seq >= 0 && it.seq < TOTAL) { if (seen[it.seq]) dupes++; seen[it.seq] = 1; }
        if (it.seq < last_seq) reordered++;
        if (it.seq != last_seq + 1) { if (gaps++ < 3) LOG("processing: GAP, expected seq %ld got %ld (%ld messages lost)", last_seq + 1, it.seq, it.seq - last_seq - 1); }
        last_seq = it.seq; processed++;
        usleep(1000000 / RATE);
    }
    return NULL;
}

// ---- producer (ttad eval) ---------------------------------------------------------------
static void *prod_main(void *arg) {
    (void)arg;
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    setopt(push, ZMQ_LINGER, 0); setopt(push, ZMQ_SNDHWM, SNDHWM);
    zmq_socket_monitor(push, "inproc://mon-push", ZMQ_EVENT_ALL);
    mon_t m = {ctx, NULL, "producer PUSH", "inproc://mon-push"}; pthread_t mt; pthread_create(&mt, NULL, monitor_main, &m);
    zmq_connect(push, ENDPOINT);
    setopt(push, ZMQ_SNDTIMEO, 500);
    char topic[] = "eval-stream", header[220]; char *payload = malloc(PAYLOAD); memset(payload, 0x5a, PAYLOAD);
    char first[32];
    for (long seq = 0; seq < TOTAL && !stop_all; seq++) {
        while (WINDOW > 0 && seq - processed >= WINDOW && !stop_all) usleep(2000);
        memcpy(first, &seq, 8); memcpy(first + 8, topic, sizeof topic);
        snprintf(header, sizeof header, "{\"id\":\"clean|%ld\",\"stream\":\"eval\",\"seq\":%ld,\"encoding\":\"raw_u8_hwc\",\"shape\":[28,28,3],\"label\":3,\"ts\":1700000000.0}", seq, seq);
        double start = now();
        for (;;) {
            // ZMQSocket.send: first part blocking (SNDTIMEO 500), later parts blocking
            if (zmq_send(push, first, 8 + sizeof topic, ZMQ_SNDMORE) >= 0) {
                int rc = zmq_send(push, header, strlen(header), ZMQ_SNDMORE); assert(rc >= 0);
                rc = zmq_send(push, payload, PAYLOAD, 0); assert(rc >= 0);
                break;
            }
            assert(errno == EAGAIN);
            if (now() - start > maxblock) maxblock = now() - start;
            if (now() - start >= GIVEUP) {
                LOG("STALL: producer accepted nothing for %d s (sent %ld, daemon received %ld, processed %ld, ingest queue %d, I/O polls %ld)",
                    GIVEUP, sent, received, processed, q_count(), polls);
                char cmd[300]; const char *port = strrchr(ENDPOINT, ':') + 1;
                snprintf(cmd, sizeof cmd, "ss -tn state all '( sport = :%s or dport = :%s )' >&2", port, port);
                if (system(cmd)) {}
                producer_done = 2; goto out;
            }
        }
        sent++;
    }
    producer_done = 1;
    while (!stop_all) usleep(100000);
out:
    stop_all = 1;
    pthread_join(mt, NULL);
    zmq_close(push); zmq_ctx_term(ctx); free(payload); return NULL;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--rate")) RATE = v; else if (!strcmp(argv[i], "--hb-ivl")) HB_IVL = v;
        else if (!strcmp(argv[i], "--hb-timeout")) HB_TMO = v; else if (!strcmp(argv[i], "--rcvhwm")) RCVHWM = v;
        else if (!strcmp(argv[i], "--sndhwm")) SNDHWM = v; else if (!strcmp(argv[i], "--qcap")) QCAP = v;
        else if (!strcmp(argv[i], "--total")) TOTAL = v; else if (!strcmp(argv[i], "--giveup")) GIVEUP = v;
        else if (!strcmp(argv[i], "--window")) WINDOW = v; else if (!strcmp(argv[i], "--hb-ttl")) HB_TTL = v;
        else if (!strcmp(argv[i], "--fix")) FIX = v; else if (!strcmp(argv[i], "--payload")) PAYLOAD = v;
        else { fprintf(stderr, "unknown %s\n", argv[i]); return 2; }
    }
    T0 = now();
    int maj, min, pat; zmq_version(&maj, &min, &pat);
    LOG("libzmq %d.%d.%d fix=%d rate=%d/s hb_ivl=%d hb_timeout=%d rcvhwm=%d sndhwm=%d qcap=%d total=%d window=%d",
        maj, min, pat, FIX, RATE, HB_IVL, HB_TMO, RCVHWM, SNDHWM, QCAP, TOTAL, WINDOW);
    ring = calloc(QCAP, sizeof *ring); seen = calloc(TOTAL, 1);
    daemon_ctx = zmq_ctx_new();
    pthread_t io, pr, pd;
    pthread_create(&io, NULL, io_main, NULL);
    pthread_mutex_lock(&ready_lock); while (!ready) pthread_cond_wait(&ready_cond, &ready_lock); pthread_mutex_unlock(&ready_lock);
    wake_sender = zmq_socket(daemon_ctx, ZMQ_PAIR); setopt(wake_sender, ZMQ_LINGER, 0); zmq_connect(wake_sender, CTL);
    pthread_create(&pr, NULL, proc_main, NULL);
    pthread_create(&pd, NULL, prod_main, NULL);
    double last = now(), lastprog = now(); long lastp = 0;
    while (!stop_all) {
        usleep(100000);
        if (processed != lastp) { lastp = processed; lastprog = now(); }
        if (producer_done == 1 && processed >= sent) { LOG("all %ld processed", processed); stop_all = 1; }
        if (producer_done == 1 && now() - lastprog > GIVEUP) { LOG("STARVED: producer done, %ld of %ld processed, ingest queue %d, nothing for %d s", processed, sent, q_count(), GIVEUP);
            char cmd[300]; const char *port = strrchr(ENDPOINT, ':') + 1;
            snprintf(cmd, sizeof cmd, "ss -tn state all '( sport = :%s or dport = :%s )' >&2", port, port);
            if (system(cmd)) {}
            stop_all = 1; }
        if (now() - last >= 10) { last = now(); LOG("progress: sent %ld received %ld processed %ld queue %d gaps %ld", sent, received, processed, q_count(), gaps); }
    }
    // let the consumer drain what it has, to see whether anything still arrives
    pthread_join(pd, NULL);
    long distinct = 0; for (long i = 0; i < TOTAL; i++) distinct += seen[i];
    LOG("END: producer %s; sent %ld, processed %ld (distinct %ld), LOST %ld, out-of-order %ld, longest blocked send %.1f s",
        producer_done == 2 ? "GAVE UP" : "finished", sent, processed, distinct, sent - distinct, reordered, maxblock);
    pthread_join(io, NULL); pthread_join(pr, NULL); pthread_join(dmon_thread, NULL);
    pthread_mutex_lock(&wlock); zmq_close(wake_sender); wake_sender = NULL; pthread_mutex_unlock(&wlock);
    zmq_ctx_term(daemon_ctx);
    return producer_done == 2 ? 1 : 0;
}

/* brisk's optional accelerator: the common HTTP/1.1 request head written, the response head read, and the
 * system calls of a plain exchange made, in C.
 *
 * encode_head(method, target, headers) writes the request line and header lines as
 * http11.encode_request_head does, when every part is plainly valid: the method and each name a token,
 * the target visible ASCII, each value latin-1 text without control characters (SP and HTAB around it
 * are dropped), ``headers`` a list of (str, str) tuples. Otherwise it returns None and the Python code
 * writes the head or raises the error that names the bad part.
 *
 * parse_head(buffer, max_head_size, max_header_line, max_header_count) reads a response head that is
 * complete in ``buffer`` and written in the plainest form HTTP/1.1 allows:
 *
 *   HTTP/1.1 SP 3DIGIT (SP reason)? CRLF, status 200-999, reason of visible ASCII, SP and HTAB;
 *   field lines "token:value" with a value of visible ASCII, SP and HTAB, each ending in CRLF;
 *   at most one Content-Length, whose value is OWS and 1 to 15 digits; no Transfer-Encoding;
 *   every limit of ``Limits`` met.
 *
 * It returns (head_end, status, reason, block, content_length or -1, close, missing) where ``block`` is the
 * header block from the status line's CRLF to the CRLF before the empty line (the form ResponseHead keeps),
 * ``close`` says whether a Connection field holds the token "close", and ``missing`` is the frozenset of
 * the names among "set-cookie" and "content-encoding" that no field has (every response is asked for
 * those two: ResponseHead answers from it without searching the block). For anything else (a head not yet
 * complete, HTTP/1.0, an interim response, obs-text, a chunked body, a limit exceeded, any byte out of
 * place) it returns None and the pure-Python parser reads the same bytes from the start: it either accepts
 * them through llhttp or raises the error that names what is wrong. So this path only ever accepts a
 * strict subset of what llhttp accepts, read to the same result, and never raises on the server's bytes.
 * tests/unit/protocol/test_speedups.py compares both parsers on generated heads.
 *
 * exchange(...) sends a request head and makes the first read of its answer with the GIL released (see
 * there); like the rest, it leaves every error and every unusual case to the Python code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#define HAVE_EXCHANGE 1
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: Python ignores SIGPIPE anyway */
#endif
#endif

/* RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA */
static unsigned char tchar[256];
/* a byte a reason phrase or a field value may hold on this path: HTAB, SP and visible ASCII */
static unsigned char vchar[256];

static PyObject *OK;
/* The fields every response is asked for, whose absence the head reports so that no search is needed:
 * MISSING[fields] is the frozenset of the names (lower case) of those not among its fields. */
enum { SET_COOKIE = 1, CONTENT_ENCODING = 2 };
static PyObject *MISSING[4];

static int
lower_equals(const char *data, Py_ssize_t size, const char *lower, Py_ssize_t lower_size)
{
    if (size != lower_size) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c >= 'A' && c <= 'Z') {
            c += 32;
        }
        if (c != (unsigned char)lower[i]) {
            return 0;
        }
    }
    return 1;
}

/* Does a Connection value hold the token "close"? As the Python parser reads it: SP and HTAB dropped
 * everywhere, then split on commas, compared in lower case. */
static int
has_close_token(const char *value, Py_ssize_t size)
{
    static const char close[] = "close";
    Py_ssize_t matched = 0;
    int alive = 1; /* the current token still matches "close" so far */
    for (Py_ssize_t i = 0; i <= size; i++) {
        unsigned char c = i < size ? (unsigned char)value[i] : ',';
        if (c == ' ' || c == '\t') {
            continue;
        }
        if (c == ',') {
            if (alive && matched == 5) {
                return 1;
            }
            matched = 0;
            alive = 1;
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            c += 32;
        }
        if (alive && matched < 5 && c == (unsigned char)close[matched]) {
            matched++;
        }
        else {
            alive = 0;
        }
    }
    return 0;
}

/* Are the three limits exact ints within Py_ssize_t? 1 if so, 0 if not: Limits may hold floats, or ints
 * beyond it, and then the Python parser, which takes any number, does the job. */
static int
read_limits(PyObject *const *args, Py_ssize_t limits[3])
{
    for (int i = 0; i < 3; i++) {
        if (!PyLong_CheckExact(args[i])) {
            return 0;
        }
        limits[i] = PyLong_AsSsize_t(args[i]);
        if (limits[i] == -1 && PyErr_Occurred()) {
            PyErr_Clear(); /* too large for a Py_ssize_t */
            return 0;
        }
    }
    return 1;
}

/* The head in data[0:size] read as parse_head describes: a new tuple, a new reference to None, or NULL with
 * an exception set (memory). */
static PyObject *
read_head(const char *data, Py_ssize_t size, const Py_ssize_t limits[3])
{
    Py_ssize_t max_head_size = limits[0], max_header_line = limits[1], max_header_count = limits[2];
    if (size < 16 || memcmp(data, "HTTP/1.1 ", 9) != 0) {
        Py_RETURN_NONE;
    }
    const char *found = memmem(data, (size_t)size, "\r\n\r\n", 4);
    if (found == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t end = (found - data) + 4;
    if (end > max_head_size) {
        Py_RETURN_NONE;
    }

    /* the status line */
    unsigned char d0 = data[9], d1 = data[10], d2 = data[11];
    if (d0 < '2' || d0 > '9' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9') {
        Py_RETURN_NONE; /* an interim (1xx) response, a status below 100, or no status at all */
    }
    long status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
    Py_ssize_t pos = 12, reason_start = 12, reason_end = 12;
    if (data[pos] == ' ') {
        pos++;
        while (vchar[(unsigned char)data[pos]]) {
            pos++;
        }
        reason_start = 13;
        reason_end = pos;
        while (reason_start < reason_end && (data[reason_start] == ' ' || data[reason_start] == '\t')) {
            reason_start++;
        }
        while (reason_end > reason_start && (data[reason_end - 1] == ' ' || data[reason_end - 1] == '\t')) {
            reason_end--;
        }
    }
    if (data[pos] != '\r' || data[pos + 1] != '\n' || pos > max_header_line) {
        Py_RETURN_NONE;
    }
    Py_ssize_t block_start = pos;

    /* the field lines, up to the empty line at end - 2 */
    Py_ssize_t content_length = -1, count = 0;
    int close = 0, fields = 0; /* SET_COOKIE | CONTENT_ENCODING seen */
    pos += 2;
    while (pos < end - 2) {
        Py_ssize_t line_start = pos;
        while (tchar[(unsigned char)data[pos]]) {
            pos++;
        }
        Py_ssize_t name_size = pos - line_start;
        if (name_size == 0 || data[pos] != ':') {
            Py_RETURN_NONE; /* an empty or invalid name, whitespace before the colon, obs-fold */
        }
        Py_ssize_t value_start = ++pos;
        while (vchar[(unsigned char)data[pos]]) {
            pos++;
        }
        Py_ssize_t value_end = pos;
        if (data[pos] != '\r' || data[pos + 1] != '\n' || pos - line_start + 2 > max_header_line) {
            Py_RETURN_NONE; /* a control character or obs-text in the value, a bare CR, a long line */
        }
        pos += 2;
        if (++count > max_header_count) {
            Py_RETURN_NONE;
        }
        const char *name = data + line_start;
        if (lower_equals(name, name_size, "content-length", 14)) {
            if (content_length >= 0) {
                Py_RETURN_NONE; /* a second Content-Length: llhttp refuses it */
            }
            Py_ssize_t i = value_start;
            while (i < value_end && (data[i] == ' ' || data[i] == '\t')) {
                i++;
            }
            if (i == value_end || value_end - i > 15) {
                Py_RETURN_NONE;
            }
            content_length = 0;
            for (; i < value_end; i++) {
                if (data[i] < '0' || data[i] > '9') {
                    Py_RETURN_NONE; /* trailing whitespace or anything else: the Python parser decides */
                }
                content_length = content_length * 10 + (data[i] - '0');
            }
        }
        else if (lower_equals(name, name_size, "transfer-encoding", 17)) {
            Py_RETURN_NONE; /* chunked bodies and refused codings are the Python parser's */
        }
        else if (lower_equals(name, name_size, "set-cookie", 10)) {
            fields |= SET_COOKIE;
        }
        else if (lower_equals(name, name_size, "content-encoding", 16)) {
            fields |= CONTENT_ENCODING;
        }
        else if (!close && lower_equals(name, name_size, "connection", 10)) {
            close = has_close_token(data + value_start, value_end - value_start);
        }
    }

    PyObject *reason;
    if (reason_end - reason_start == 2 && data[reason_start] == 'O' && data[reason_start + 1] == 'K') {
        reason = Py_NewRef(OK);
    }
    else {
        reason = PyUnicode_DecodeLatin1(data + reason_start, reason_end - reason_start, NULL);
        if (reason == NULL) {
            return NULL;
        }
    }
    PyObject *block = PyBytes_FromStringAndSize(data + block_start, end - 2 - block_start);
    if (block == NULL) {
        Py_DECREF(reason);
        return NULL;
    }
    return Py_BuildValue("(nlNNnOO)", end, status, reason, block, content_length, close ? Py_True : Py_False,
                         MISSING[fields]);
}

static PyObject *
parse_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "parse_head(buffer, max_head_size, max_header_line, max_header_count)");
        return NULL;
    }
    Py_ssize_t limits[3];
    if (!PyBytes_CheckExact(args[0]) || !read_limits(args + 1, limits)) {
        Py_RETURN_NONE;
    }
    return read_head(PyBytes_AS_STRING(args[0]), PyBytes_GET_SIZE(args[0]), limits);
}

#ifdef HAVE_EXCHANGE
/* What exchange() stopped at. */
enum { GOT_DATA = 0, GOT_EOF = 1, SEND_FAILED = 2, RECV_FAILED = 3 };
/* How busy polling went: not done (or data was there at once), data came while polling, or none came. */
enum { NOT_POLLED = 0, POLLED = 1, POLLED_IN_VAIN = 2 };

static double
monotonic(void)
{
    struct timespec now;
#ifdef __APPLE__
    clock_gettime(CLOCK_UPTIME_RAW, &now); /* time.monotonic()'s clock there (mach_absolute_time) */
#else
    clock_gettime(CLOCK_MONOTONIC, &now); /* the clock of time.monotonic() */
#endif
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Poll ``fd`` for reading until data (or EOF) is there or ``seconds`` have passed, without sleeping. A
 * failing poll() (a signal: EINTR) ends it as if nothing was polled; the read then waits. */
static int
busy_poll(int fd, double seconds)
{
    struct pollfd ready = {fd, POLLIN, 0};
    if (poll(&ready, 1, 0) != 0) {
        return NOT_POLLED;
    }
    double give_up = monotonic() + seconds;
    int found;
    while ((found = poll(&ready, 1, 0)) == 0) {
        if (monotonic() >= give_up) {
            return POLLED_IN_VAIN;
        }
    }
    return found > 0 ? POLLED : NOT_POLLED;
}

/* exchange(fd, head, recv_size, busy_poll, max_head_size, max_header_line, max_header_count)
 *
 * One HTTP/1.1 request without a body on a blocking socket whose kernel timeouts (SO_SNDTIMEO,
 * SO_RCVTIMEO) are set: send all of ``head``, busy-poll for up to ``busy_poll`` seconds (0: not), then
 * one recv() of up to ``recv_size`` bytes, with the GIL released around each system call. Returns
 * (outcome, errno, sent_at, polled, data, head) where ``outcome`` is GOT_DATA, GOT_EOF, SEND_FAILED or
 * RECV_FAILED (``errno`` set for the last two: EAGAIN when a kernel timeout ran out), ``sent_at`` the
 * time.monotonic() when the head was sent, ``polled`` how busy polling went, ``data`` the bytes received
 * and ``head`` what parse_head reads from them or None. Returns None without touching the socket when the
 * limits are not plain ints. Python code does everything else: it raises the errors that name the
 * failure and reads on where one recv() was not enough, so this replaces the common case's calls only.
 * A signal's handler runs at EINTR, as in Python's own socket calls; an exception it raises propagates.
 *
 * exchange(..., max_header_count, between, *between_args): ``between(*between_args)`` is called once the
 * head is sent, before polling and the read, and its result ends the tuple (None when the send failed;
 * ``between`` None: no call, and the tuple is as without it).
 * The server takes tens of microseconds to answer: work done there, that needs no byte of the answer,
 * costs no time in a loop that would sleep, and shortens the spin of one that polls. An exception it
 * raises propagates (the request is sent and its answer unread: the caller must close the connection). */
static PyObject *
exchange(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 7) {
        PyErr_SetString(PyExc_TypeError,
                        "exchange(fd, head, recv_size, busy_poll, max_head_size, max_header_line, "
                        "max_header_count[, between, *between_args])");
        return NULL;
    }
    PyObject *between = nargs > 7 && args[7] != Py_None ? args[7] : NULL; /* None: no call */
    Py_ssize_t limits[3];
    long fd = PyLong_AsLong(args[0]);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t recv_size = PyLong_AsSsize_t(args[2]);
    if (recv_size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    double spin = PyFloat_AsDouble(args[3]);
    if (spin == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyBytes_CheckExact(args[1]) || recv_size <= 0 || fd < 0 || fd > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "exchange() takes a descriptor, the head as bytes and a positive recv_size");
        return NULL;
    }
    if (!read_limits(args + 4, limits)) {
        Py_RETURN_NONE;
    }
    const char *out = PyBytes_AS_STRING(args[1]);
    Py_ssize_t left = PyBytes_GET_SIZE(args[1]);
    int outcome = GOT_DATA, error = 0, polled = NOT_POLLED;
    while (left > 0) {
        ssize_t sent;
        Py_BEGIN_ALLOW_THREADS
        sent = send((int)fd, out, (size_t)left, MSG_NOSIGNAL);
        error = sent < 0 ? errno : 0;
        Py_END_ALLOW_THREADS
        if (sent < 0) {
            if (error == EINTR) {
                if (PyErr_CheckSignals() < 0) {
                    return NULL;
                }
                continue;
            }
            outcome = SEND_FAILED;
            break;
        }
        out += sent;
        left -= sent;
        if (PyErr_CheckSignals() < 0) { /* as socket.sendall: a handler runs between partial sends */
            return NULL;
        }
    }
    double sent_at = monotonic();
    PyObject *extra = NULL;
    if (between != NULL && outcome == GOT_DATA) {
        extra = PyObject_Vectorcall(between, args + 8, (size_t)(nargs - 8), NULL);
        if (extra == NULL) {
            return NULL;
        }
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, outcome == GOT_DATA ? recv_size : 0);
    if (data == NULL) {
        Py_XDECREF(extra);
        return NULL;
    }
    Py_ssize_t size = 0;
    if (outcome == GOT_DATA) {
        if (spin > 0) {
            Py_BEGIN_ALLOW_THREADS
            polled = busy_poll((int)fd, spin);
            Py_END_ALLOW_THREADS
            if (PyErr_CheckSignals() < 0) { /* a signal while polling: its handler runs before the read */
                Py_DECREF(data);
                Py_XDECREF(extra);
                return NULL;
            }
        }
        for (;;) {
            ssize_t got;
            Py_BEGIN_ALLOW_THREADS
            got = recv((int)fd, PyBytes_AS_STRING(data), (size_t)recv_size, 0);
            error = got < 0 ? errno : 0;
            Py_END_ALLOW_THREADS
            if (got < 0 && error == EINTR) {
                if (PyErr_CheckSignals() < 0) {
                    Py_DECREF(data);
                    Py_XDECREF(extra);
                    return NULL;
                }
                continue;
            }
            if (got < 0) {
                outcome = RECV_FAILED;
            }
            else if (got == 0) {
                outcome = GOT_EOF;
            }
            else {
                size = got;
            }
            break;
        }
        if (_PyBytes_Resize(&data, size) < 0) {
            Py_XDECREF(extra);
            return NULL;
        }
    }
    PyObject *head;
    if (size) {
        head = read_head(PyBytes_AS_STRING(data), size, limits);
        if (head == NULL) {
            Py_DECREF(data);
            Py_XDECREF(extra);
            return NULL;
        }
    }
    else {
        head = Py_NewRef(Py_None);
    }
    if (between == NULL) {
        return Py_BuildValue("(iidiNN)", outcome, error, sent_at, polled, data, head);
    }
    if (extra == NULL) {
        extra = Py_NewRef(Py_None);
    }
    return Py_BuildValue("(iidiNNN)", outcome, error, sent_at, polled, data, head, extra);
}
#endif

/* [start, end) of a field value without the SP and HTAB around it */
static void
strip(const Py_UCS1 *data, Py_ssize_t *start, Py_ssize_t *end)
{
    while (*start < *end && (data[*start] == ' ' || data[*start] == '\t')) {
        (*start)++;
    }
    while (*end > *start && (data[*end - 1] == ' ' || data[*end - 1] == '\t')) {
        (*end)--;
    }
}

/* Is ``text`` an exact str whose characters are all below 256 (stored one byte each)? */
static int
is_latin1_str(PyObject *text)
{
    if (!PyUnicode_CheckExact(text)) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) { /* a legacy string of the old C API: 3.11 only */
        PyErr_Clear();
        return 0;
    }
#endif
    return PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND;
}

/* The size of a request line or header part in the head, or -1 when the part is not plain (see above). */
static Py_ssize_t
token_size(PyObject *text)
{
    if (!is_latin1_str(text)) {
        return -1;
    }
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < size; i++) {
        if (!tchar[data[i]]) {
            return -1;
        }
    }
    return size ? size : -1;
}

static PyObject *
encode_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "encode_head(method, target, headers)");
        return NULL;
    }
    PyObject *method = args[0], *target = args[1], *headers = args[2];
    Py_ssize_t method_size = token_size(method);
    if (method_size < 0 || !PyList_CheckExact(headers) || !is_latin1_str(target)) {
        Py_RETURN_NONE;
    }
    const Py_UCS1 *target_data = PyUnicode_1BYTE_DATA(target);
    Py_ssize_t target_size = PyUnicode_GET_LENGTH(target);
    if (target_size == 0) {
        Py_RETURN_NONE;
    }
    for (Py_ssize_t i = 0; i < target_size; i++) {
        if (target_data[i] <= 0x20 || target_data[i] >= 0x7f) {
            Py_RETURN_NONE;
        }
    }
    /* first pass: check every field and add up the size */
    Py_ssize_t count = PyList_GET_SIZE(headers);
    Py_ssize_t total = method_size + 1 + target_size + 11 + 2; /* "M T HTTP/1.1\r\n" ... "\r\n" */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            Py_RETURN_NONE;
        }
        Py_ssize_t name_size = token_size(PyTuple_GET_ITEM(pair, 0));
        PyObject *value = PyTuple_GET_ITEM(pair, 1);
        if (name_size < 0 || !is_latin1_str(value)) {
            Py_RETURN_NONE;
        }
        const Py_UCS1 *data = PyUnicode_1BYTE_DATA(value);
        Py_ssize_t size = PyUnicode_GET_LENGTH(value);
        for (Py_ssize_t j = 0; j < size; j++) {
            Py_UCS1 c = data[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                Py_RETURN_NONE;
            }
        }
        Py_ssize_t start = 0, end = size;
        strip(data, &start, &end);
        total += name_size + 2 + (end - start) + 2;
    }
    PyObject *head = PyBytes_FromStringAndSize(NULL, total);
    if (head == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(head);
    memcpy(out, PyUnicode_1BYTE_DATA(method), method_size);
    out += method_size;
    *out++ = ' ';
    memcpy(out, target_data, target_size);
    out += target_size;
    memcpy(out, " HTTP/1.1\r\n", 11);
    out += 11;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(headers, i);
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        Py_ssize_t name_size = PyUnicode_GET_LENGTH(name);
        memcpy(out, PyUnicode_1BYTE_DATA(name), name_size);
        out += name_size;
        *out++ = ':';
        *out++ = ' ';
        const Py_UCS1 *data = PyUnicode_1BYTE_DATA(value);
        Py_ssize_t start = 0, end = PyUnicode_GET_LENGTH(value);
        strip(data, &start, &end);
        memcpy(out, data + start, end - start);
        out += end - start;
        *out++ = '\r';
        *out++ = '\n';
    }
    *out++ = '\r';
    *out++ = '\n';
    assert(out - PyBytes_AS_STRING(head) == total);
    return head;
}

static PyMethodDef methods[] = {
    {"encode_head", (PyCFunction)(void (*)(void))encode_head, METH_FASTCALL,
     "encode_head(method, target, headers) -> bytes | None"},
    {"parse_head", (PyCFunction)(void (*)(void))parse_head, METH_FASTCALL,
     "parse_head(buffer, max_head_size, max_header_line, max_header_count) -> tuple | None"},
#ifdef HAVE_EXCHANGE
    {"exchange", (PyCFunction)(void (*)(void))exchange, METH_FASTCALL,
     "exchange(fd, head, recv_size, busy_poll, max_head_size, max_header_line, max_header_count) "
     "-> tuple | None"},
#endif
    {NULL, NULL, 0, NULL},
};

static int
exec_module(PyObject *module)
{
    const char *tokens = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; c++) {
        tchar[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != 0 && strchr(tokens, c) != NULL);
        vchar[c] = c == '\t' || (c >= 0x20 && c < 0x7f);
    }
    /* What the Python code expects of these functions (accelerator.py): a build left over from an older
     * checkout, with other signatures, is then left unused rather than called wrongly. */
    if (PyModule_AddIntConstant(module, "API", 2) < 0) {
        return -1;
    }
    if (OK != NULL) {
        return 0; /* made by an earlier instance of the module (a re-import): shared, never changed */
    }
    static const char *const names[2] = {"set-cookie", "content-encoding"}; /* bits SET_COOKIE, ... */
    for (int fields = 0; fields < 4; fields++) {
        PyObject *missing = PyFrozenSet_New(NULL);
        if (missing == NULL) {
            return -1;
        }
        for (int bit = 0; bit < 2; bit++) {
            if (!(fields & (1 << bit))) {
                PyObject *name = PyUnicode_InternFromString(names[bit]);
                int failed = name == NULL || PySet_Add(missing, name) < 0; /* a new frozenset may be filled */
                Py_XDECREF(name);
                if (failed) {
                    Py_DECREF(missing);
                    return -1;
                }
            }
        }
        Py_XSETREF(MISSING[fields], missing); /* published once filled (replacing a failed attempt's) */
    }
    OK = PyUnicode_InternFromString("OK"); /* last: the mark that the objects above are made */
    return OK == NULL ? -1 : 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, /* the functions keep no state; the tables are filled once */
#endif
#ifdef Py_mod_multiple_interpreters
    /* "OK" and the frozensets are made once and shared: subinterpreters yes, each with a GIL of its own no */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "brisk._protocol._speedups",
    .m_doc = "brisk's optional C accelerator for HTTP/1.1 heads (see accelerator.py).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}

"""A dependency-free progress bar: rate, ETA and a running loss, drawn on stderr.

It stays silent for the first second, so short loops print nothing, and it redraws at most
ten times a second.  On a non-terminal stream it prints one final line per loop instead of
redrawing.
"""
import sys
import time


class Progress:
    """A progress bar, either wrapping an iterable, ``for batch in Progress(loader, "train", unit="img")``,
    or on its own, ``with Progress(None, "train", total=n) as bar: … bar.update(k)`` (the loader and
    the bar then stay separate objects).

    ``update(n, loss=…)`` advances by ``n`` units (e.g. images) and records a running loss.
    """

    def __init__(self, iterable, desc, total=None, unit="it", stream=None, enabled=True, min_seconds=1.0):
        self.iterable = iterable
        self.desc = desc
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        # (iterable None: a bar driven by update() inside a with block)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.min_seconds = min_seconds
        self.count = 0
        self.loss_sum = 0.0
        self.loss_n = 0
        self.start = None
        self._last_draw = 0.0
        self._drawn = False

    def __iter__(self):
        self.start = time.perf_counter()
        try:
            for item in self.iterable:
                yield item
        finally:
            self.close()

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def update(self, n=1, loss=None):
        self.count += n
        if loss is not None:
            self.loss_sum += float(loss) * n
            self.loss_n += n
        self._maybe_draw()

    @property
    def running_loss(self):
        return self.loss_sum / self.loss_n if self.loss_n else float("nan")

    def elapsed(self):
        return time.perf_counter() - self.start if self.start is not None else 0.0

    def line(self):
        elapsed = self.elapsed()
        rate = self.count / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.desc}"]
        if self.total:
            frac = min(self.count / self.total, 1.0)
            width = 24
            filled = int(frac * width)
            parts.append(f"[{'#' * filled}{'.' * (width - filled)}] {self.count}/{self.total}")
            eta = (self.total - self.count) / rate if rate > 0 else float("inf")
            parts.append(f"ETA {_fmt_seconds(eta)}")
        else:
            parts.append(f"{self.count}")
        parts.append(f"{rate:.1f} {self.unit}/s")
        if self.loss_n:
            parts.append(f"loss {self.running_loss:.4f}")
        parts.append(f"{_fmt_seconds(elapsed)}")
        return "  ".join(parts)

    def _maybe_draw(self):
        if not self.enabled or self.start is None:
            return
        now = time.perf_counter()
        if now - self.start < self.min_seconds or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        if self.stream.isatty():
            self.stream.write("\r" + self.line().ljust(100)[:120])
            self.stream.flush()
        self._drawn = True

    def close(self):
        if not self.enabled or self.start is None:
            return
        if self._drawn or self.elapsed() >= self.min_seconds:
            if self.stream.isatty():
                self.stream.write("\r" + self.line().ljust(100)[:120] + "\n")
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()
        self.start = None


def _fmt_seconds(s):
    if s != s or s == float("inf"):
        return "--:--"
    s = int(round(s))
    return f"{s // 60:02d}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"

"""One image measurement in a fresh process: CPU time and peak RSS of this process.

    python bench/files/image_child.py tessera|pillow PATH OUT_DIR

`tessera` runs `tessera.files.images.image_process` (orient, strip, re-encode the original,
four variants) and writes every rendition to OUT_DIR, as the local store would; `pillow` is
the floor: decode the JPEG and encode it once at full size, nothing else. Prints one JSON
line.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    with Path(f"/proc/{os.getpid()}/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    mode, source, out_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    import django

    django.setup()
    from PIL import Image

    from tessera.files.images import image_process
    from tessera.files.purposes import Purpose, policy_for

    rss_before = _rss_mib()
    cpu_before, wall_before = _cpu(), time.perf_counter()
    outputs: dict[str, list[int]] = {}
    if mode == "tessera":
        processed = image_process(source, policy=policy_for(Purpose.EVENT_COVER))
        try:
            for rendition in [processed.original, *processed.variants]:
                with (out_dir / f"{rendition.name}.bin").open("wb") as target:
                    shutil.copyfileobj(rendition.data, target)
                outputs[rendition.name] = [rendition.width, rendition.height, rendition.size]
        finally:
            processed.close()
    else:
        with Image.open(source) as image:
            image.load()
            image.save(out_dir / "floor.jpg", "JPEG", quality=90)
            outputs["floor"] = [image.width, image.height, (out_dir / "floor.jpg").stat().st_size]
    cpu_seconds = _cpu() - cpu_before
    wall_seconds = time.perf_counter() - wall_before
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "mode": mode,
                "cpu_seconds": round(cpu_seconds, 4),
                "wall_seconds": round(wall_seconds, 4),
                "rss_before_mib": round(rss_before, 1),
                "peak_rss_mib": round(peak_mib, 1),
                "outputs": outputs,
            }
        )
    )


if __name__ == "__main__":
    main()

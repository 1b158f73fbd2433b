#!/usr/bin/python3
"""Local RTSP test server (Debian: python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,ugly}).
Serves rtsp://127.0.0.1:PORT/test : an H.264 test pattern (videotestsrc -> x264enc), 640x480@30.
Each client gets its own pipeline (shared=False). Stops by itself after DURATION seconds."""
# Copied from gst_rtsp_server.py of the mocapd shared test tools; only this line was added. Used by tests/it/support/rtsp.rs.
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
port = sys.argv[1] if len(sys.argv) > 1 else "8554"
duration = int(sys.argv[2]) if len(sys.argv) > 2 else 120
Gst.init(None)
server = GstRtspServer.RTSPServer(); server.set_address("127.0.0.1"); server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch("( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 "
                   "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=1 )")
factory.set_shared(False)
server.get_mount_points().add_factory("/test", factory)
server.attach(None)
print(f"serving rtsp://127.0.0.1:{port}/test for {duration}s", flush=True)
loop = GLib.MainLoop(); GLib.timeout_add_seconds(duration, loop.quit); loop.run()

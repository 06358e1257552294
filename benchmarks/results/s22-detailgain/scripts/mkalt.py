"""../shared/media/<v>.mp4's first N frames with every other frame (odd) softened by a 1.5 px Gaussian."""

import sys

import av
import cv2

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with av.open(src) as inp:
    vs = inp.streams.video[0]
    rate = vs.average_rate
    out = av.open(dst, "w")
    st = out.add_stream("libx264", rate=rate)
    st.width, st.height, st.pix_fmt = vs.codec_context.width, vs.codec_context.height, "yuv420p"
    st.options = {"crf": "10", "preset": "veryfast"}
    for i, fr in enumerate(inp.decode(video=0)):
        if i >= n:
            break
        img = fr.to_ndarray(format="bgr24")
        if i % 2:
            img = cv2.GaussianBlur(img, (0, 0), 1.5)
        for p in st.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
            out.mux(p)
    for p in st.encode():
        out.mux(p)
    out.close()
print(dst, rate)

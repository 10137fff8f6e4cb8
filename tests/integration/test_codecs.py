"""Every video codec this Chromium has goes through the server, plus Opus audio.

Per codec (VP8, VP9, H.264, AV1) one scenario (codec_scenarios.py) runs in a
lo-only network namespace: a publisher page that offers only that codec, then a
subscriber page. The subscriber must decode the publisher's video in that codec
(framesDecoded growing over 2 s; the inbound-rtp's codec is the one expected),
the publisher must send it, the subscriber must hear the publisher's Opus
audio, the server must have asked the publisher for a keyframe (the subscriber
joins once the publisher's encoder has settled, so the subscription starts on
delta frames) and the publisher must have got that request, and the server's
log must hold no error. A codec is skipped only when this Chromium cannot both
encode and decode it. A failing test prints everything the scenario recorded.

    /usr/bin/python3 -m pytest tests/integration/test_codecs.py -v -s
"""
import json

import pytest

import browser as chromium
import codec_scenarios
import netns
import room_scenarios as rooms

BUDGET = 55


_SKIP = netns.skip_reason(chromium.missing_reason)
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP))


def _video_from(view, publisher):
    rows = [s for s in view.get("inbound", []) if s.get("publisherId") == publisher and s.get("kind") == "video"]
    assert len(rows) == 1, f"expected one inbound video from {publisher}: {view.get('inbound')}"
    return rows[0]


def _mime(stream):
    return (stream.get("codec") or {}).get("mimeType", "").lower()


@pytest.mark.timeout(BUDGET + netns.OUTER_GRACE + 10)
@pytest.mark.parametrize("codec", codec_scenarios.VIDEO_CODECS)
def test_codec_passes_through(codec, capsys):
    r = netns.run_scenario(__file__, "codec", codec, budget=BUDGET)
    print(r.diagnostics())
    assert r["interfaces"] == ["lo"], "the scenario must run where loopback is the only interface"
    if r.get("unsupported"):
        with capsys.disabled():
            print(f"\n{codec}: not tested: {r['unsupported']}")
        pytest.skip(r["unsupported"])
    assert r["error"] is None, r["error"]
    want = "video/" + codec.lower()

    prefs = r["codec_preferences"]
    assert prefs and prefs["applied"] and not prefs["errors"], prefs

    # The publisher sends the codec (one video stream: no simulcast on the room page).
    pub_video = [s for s in r["pub_media"]["outbound"] if s.get("kind") == "video"]
    assert pub_video and all(_mime(s) == want for s in pub_video), pub_video
    # The server's keyframe request reached the encoder (Chromium counts PLIs and FIRs received).
    assert sum(s.get("pliCount", 0) + s.get("firCount", 0) for s in pub_video) >= 1, pub_video

    # The subscriber decodes it, more frames over the gap, in that codec.
    video = _video_from(r["sub_media"], "pub")
    assert _mime(video) == want, video
    assert video.get("keyFramesDecoded", 0) >= 1, video
    frames = [g["framesDecoded"] for g in r["growth"] if g["kind"] == "video"]
    assert frames and frames[0][0] is not None and frames[0][1] > frames[0][0], r["growth"]

    # And hears its Opus audio.
    audio = [s for s in r["sub_media"]["inbound"] if s.get("publisherId") == "pub" and s.get("kind") == "audio"]
    assert audio and all(_mime(s) == "audio/opus" for s in audio), audio
    samples = [g["totalSamplesReceived"] for g in r["growth"] if g["kind"] == "audio"]
    assert samples and samples[0][0] is not None and samples[0][1] > samples[0][0], r["growth"]

    # The subscription waited for a keyframe the server asked the publisher for.
    media = rooms.participant_media(r["server_stats_after"], "pub")
    assert media is not None, json.dumps(r["server_stats_after"])[:1500]
    assert media["keyframe_requests_sent"] >= 1, (
        f"no keyframe request for pub: {media}; pub settled before sub joined: {r.get('pub_settled')}, "
        f"pub's encoder before [t, frames, keyframes, width, source width]: {r.get('pub_keyframes', [])[-3:]}")
    assert r["server_log_errors"] == [], r["server_log_errors"]

    with capsys.disabled():
        fmtp = (video.get("codec") or {}).get("sdpFmtpLine")
        print(f"\n{codec}: tested: pub sends {pub_video[0]['codec']['mimeType']} "
              f"({pub_video[0].get('encoderImplementation')}), sub decodes "
              f"{video['codec']['mimeType']} pt {video['codec']['payloadType']} [{fmtp}] "
              f"frames {frames[0]}, "
              f"keyframe requests {media['keyframe_requests_sent']} (PLIs at the publisher "
              f"{pub_video[0].get('pliCount')}), "
              f"first frame {r['sub_receiving_seconds']} s after the sub joined")


if __name__ == "__main__":
    netns.scenario_main(codec_scenarios.SCENARIOS)

"""Strict VMC Marionette-side validator built on python-osc 1.10.2 (parsing only).
Listens on 127.0.0.1:PORT, parses every datagram (bundles flattened), checks the
OSC type-tag string of each VMC message against the spec and that every float is
finite, prints a JSON summary."""
# Copied from vmc_validate_recv.py of the mocapd shared test tools; this line and the finiteness
# check (math.isfinite on every float; the norm test alone passes NaN) were added. Used by
# tests/it/sink.rs and tests/it/validator.rs.
import json, math, socket, sys, time
from pythonosc.osc_packet import OscPacket
from pythonosc.parsing import osc_types

HUMAN_BODY_BONES = """Hips LeftUpperLeg RightUpperLeg LeftLowerLeg RightLowerLeg LeftFoot RightFoot Spine Chest Neck Head
LeftShoulder RightShoulder LeftUpperArm RightUpperArm LeftLowerArm RightLowerArm LeftHand RightHand LeftToes RightToes
LeftEye RightEye Jaw LeftThumbProximal LeftThumbIntermediate LeftThumbDistal LeftIndexProximal LeftIndexIntermediate
LeftIndexDistal LeftMiddleProximal LeftMiddleIntermediate LeftMiddleDistal LeftRingProximal LeftRingIntermediate
LeftRingDistal LeftLittleProximal LeftLittleIntermediate LeftLittleDistal RightThumbProximal RightThumbIntermediate
RightThumbDistal RightIndexProximal RightIndexIntermediate RightIndexDistal RightMiddleProximal RightMiddleIntermediate
RightMiddleDistal RightRingProximal RightRingIntermediate RightRingDistal RightLittleProximal RightLittleIntermediate
RightLittleDistal UpperChest""".split()

EXPECTED = {  # address -> allowed type-tag strings (without the leading comma)
    "/VMC/Ext/OK": {"i", "iii", "iiii"},
    "/VMC/Ext/T": {"f"},
    "/VMC/Ext/Root/Pos": {"sfffffff", "sfffffffffffff"},
    "/VMC/Ext/Bone/Pos": {"sfffffff"},
    "/VMC/Ext/Blend/Val": {"sf"},
    "/VMC/Ext/Blend/Apply": {""},
    "/VMC/Ext/Tra/Pos": {"sfffffff"}, "/VMC/Ext/Hmd/Pos": {"sfffffff"}, "/VMC/Ext/Con/Pos": {"sfffffff"},
}

def typetag(dgram: bytes) -> str:
    _, idx = osc_types.get_string(dgram, 0)
    tag, _ = osc_types.get_string(dgram, idx)
    return tag[1:]

def main(port=39539, seconds=3.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port)); sock.settimeout(0.2)
    errors, counts, bones, max_dgram, bundles = [], {}, set(), 0, 0
    end = time.time() + seconds
    while time.time() < end:
        try:
            dgram, _ = sock.recvfrom(65536)
        except socket.timeout:
            continue
        max_dgram = max(max_dgram, len(dgram))
        bundles += dgram.startswith(b"#bundle")
        for timed in OscPacket(dgram).messages:
            m = timed.message
            counts[m.address] = counts.get(m.address, 0) + 1
            tag = typetag(m.dgram)
            if m.address in EXPECTED and tag not in EXPECTED[m.address]:
                errors.append(f"{m.address}: bad type tag ,{tag}")
            for i, p in enumerate(m.params):
                if isinstance(p, float) and not math.isfinite(p):
                    errors.append(f"{m.address}: argument {i} is not finite ({p})")
            if m.address in ("/VMC/Ext/Bone/Pos",):
                name = m.params[0]
                if name not in HUMAN_BODY_BONES:
                    errors.append(f"unknown bone {name!r}")
                bones.add(name)
                x, y, z, w = m.params[4:8]
                n = (x*x + y*y + z*z + w*w) ** 0.5
                if not abs(n - 1.0) <= 1e-3:  # also true for NaN
                    errors.append(f"{name}: non-unit quaternion |q|={n:.4f}")
    print(json.dumps({"counts": counts, "bones": sorted(bones), "errors": errors,
                      "max_datagram_bytes": max_dgram, "bundles": bundles}, indent=1))
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 39539,
                  float(sys.argv[2]) if len(sys.argv) > 2 else 3.0))

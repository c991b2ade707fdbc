import importlib.metadata
from pymarc.marc8 import MARC8ToUnicode
print("# pymarc %s's MARC8ToUnicode on each byte 0xA1-0xFE: a spacing character after 'a', a" % importlib.metadata.version("pymarc"))
print("# combining mark before 'a'; its output (NFC) as code points. Bytes it cannot decode are")
print("# left out. Made by the script in `marc8_pymarc.py`; `marc::tests` checks our table against it.")
for b in range(0xA1, 0xFF):
    raw = bytes([b]) + b'a' if 0xE0 <= b <= 0xFE else bytes([0x61, b])
    s = MARC8ToUnicode(quiet=True).translate(raw)
    if s in ('a ', ' a', 'a'):
        continue
    print("%02X\t%s" % (b, ' '.join('%04X' % ord(ch) for ch in s)))

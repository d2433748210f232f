"""`vfl doctor`: one check per file, each answering with one actionable line.

The party's checks (party_doctor.py) walk the path a party node takes: name, TCP, TLS,
certificates, then the coordinator's clock and versions over the `Diagnose` service, the
link's round trip and throughput, and finally the party's own datasets. The
coordinator's (coordinator_doctor.py) check its certificates, store and listening port.
"""

"""SOC agents (issue #5): the soc-investigator, the incident-response agent and the three specialists.

Modules are imported by name (`riskmesh.agents.soc.network`, `.specialists`, `.investigator`, …); this
package imports nothing itself, so one agent's process never loads the others' logic.
"""

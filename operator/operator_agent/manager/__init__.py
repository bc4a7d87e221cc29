"""Manager and workers: one request split into sub-tasks that worker agents do at the same
time, each result checked against its spec (and sent back with the reason when it fails),
and one answer for the person. See manager.py; builder.build_manager() wires one."""

from .brain import ManagerModel, ModelBrain
from .crew import BrowserCrew, Crew, WorkerSettings
from .desk import Asked, PersonDesk
from .manager import Manager, ManagerConfig
from .records import Attempt, Fact, FinalAnswer, ManagerResult, Plan, Spec, SubTask, WorkerCheck, WorkerReport

__all__ = ["Asked", "Attempt", "BrowserCrew", "Crew", "Fact", "FinalAnswer", "Manager", "ManagerConfig",
           "ManagerModel", "ManagerResult", "ModelBrain", "PersonDesk", "Plan", "Spec", "SubTask",
           "WorkerCheck", "WorkerReport", "WorkerSettings"]

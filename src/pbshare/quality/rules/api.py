"""Routes for rule sets (``/api/v1/quality``): see, derive, save, add, change and delete rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from pbshare.core.http import DbSession
from pbshare.quality.rules import service
from pbshare.quality.rules.schemas import CheckIn, KindOut, RuleIn, RuleOut, RuleSetIn, RuleSetOut
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

QualityManager = Annotated[Principal, Depends(require(Perm.quality_manage))]
ResourceCode = Annotated[str, Path(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{2,31}$")]
ProfileId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
RuleId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]

router = APIRouter(prefix="/quality", tags=["quality"])


@router.get("/rule-kinds", response_model=list[KindOut], summary="规则类型 / rule kinds")
def rule_kinds(principal: QualityManager) -> list[dict]:
    return service.kinds()


@router.get("/rule-formats", summary="内置格式 / built-in formats")
def rule_formats(principal: QualityManager) -> list[dict]:
    return service.builtin_formats()


@router.post("/rule-expressions/check", summary="检查字段间条件 / check a cross-field condition")
def check_expression(body: CheckIn, principal: QualityManager) -> dict:
    """422 ``expression_not_allowed`` / ``expression_syntax`` when the condition is refused."""
    return service.check_expression(body.expression, columns=body.columns)


# ------------------------------------------------------------------ per catalog resource

@router.get("/rule-sets/resources/{code}", response_model=RuleSetOut,
            summary="资源的规则集（未保存时按信息项生成） / a resource's rule set (derived until saved)")
def resource_rules(code: ResourceCode, principal: QualityManager, db: DbSession) -> dict:
    return service.rule_set(db, resource_code=code)


@router.get("/rule-sets/resources/{code}/derived", response_model=RuleSetOut,
            summary="按信息项重新生成的规则 / rules derived afresh from the info items")
def resource_rules_derived(code: ResourceCode, principal: QualityManager, db: DbSession) -> dict:
    return service.derived_set(db, resource_code=code)


@router.put("/rule-sets/resources/{code}", response_model=RuleSetOut, summary="保存资源的规则集 / save a resource's set")
def save_resource_rules(code: ResourceCode, body: RuleSetIn, principal: QualityManager, db: DbSession) -> dict:
    return service.save_rule_set(db, resource_code=code, rules=[r.model_dump(mode="json") for r in body.rules],
                                 principal=principal)


@router.delete("/rule-sets/resources/{code}", status_code=204,
               summary="恢复为按信息项生成 / forget the saved set (back to derived rules)")
def reset_resource_rules(code: ResourceCode, principal: QualityManager, db: DbSession) -> Response:
    service.reset_rule_set(db, resource_code=code, principal=principal)
    return Response(status_code=204)


@router.post("/rule-sets/resources/{code}/rules", response_model=RuleOut, status_code=201,
             summary="给资源添加规则 / add a rule to a resource")
def add_resource_rule(code: ResourceCode, body: RuleIn, principal: QualityManager, db: DbSession) -> dict:
    return service.add_rule(db, resource_code=code, rule=body.model_dump(mode="json"), principal=principal)


# ------------------------------------------------------------------ per import profile

@router.get("/rule-sets/profiles/{profile_id}", response_model=RuleSetOut,
            summary="导入配置的规则集 / an import profile's rule set")
def profile_rules(profile_id: ProfileId, principal: QualityManager, db: DbSession) -> dict:
    return service.rule_set(db, profile_id=profile_id)


@router.put("/rule-sets/profiles/{profile_id}", response_model=RuleSetOut,
            summary="保存导入配置的规则集 / save a profile's set")
def save_profile_rules(profile_id: ProfileId, body: RuleSetIn, principal: QualityManager, db: DbSession) -> dict:
    return service.save_rule_set(db, profile_id=profile_id, rules=[r.model_dump(mode="json") for r in body.rules],
                                 principal=principal)


@router.delete("/rule-sets/profiles/{profile_id}", status_code=204, summary="清空导入配置的规则集 / drop a profile's set")
def reset_profile_rules(profile_id: ProfileId, principal: QualityManager, db: DbSession) -> Response:
    service.reset_rule_set(db, profile_id=profile_id, principal=principal)
    return Response(status_code=204)


@router.post("/rule-sets/profiles/{profile_id}/rules", response_model=RuleOut, status_code=201,
             summary="给导入配置添加规则 / add a rule to a profile")
def add_profile_rule(profile_id: ProfileId, body: RuleIn, principal: QualityManager, db: DbSession) -> dict:
    return service.add_rule(db, profile_id=profile_id, rule=body.model_dump(mode="json"), principal=principal)


# ------------------------------------------------------------------ one rule

@router.put("/rules/{rule_id}", response_model=RuleOut, summary="修改规则 / change a rule")
def update_rule(rule_id: RuleId, body: RuleIn, principal: QualityManager, db: DbSession) -> dict:
    return service.update_rule(db, rule_id=rule_id, rule=body.model_dump(mode="json"), principal=principal)


@router.delete("/rules/{rule_id}", status_code=204, summary="删除规则 / delete a rule")
def delete_rule(rule_id: RuleId, principal: QualityManager, db: DbSession) -> Response:
    service.delete_rule(db, rule_id=rule_id, principal=principal)
    return Response(status_code=204)

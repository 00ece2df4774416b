"""Users service: a REST resource with 201 + Location, 204, 404, 409, filtering and pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.common import (
    EMAIL_PATTERN,
    Page,
    PageParams,
    ServiceError,
    ServiceSettings,
    install_common,
    page_params,
    paginate,
)


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)


class User(UserIn):
    id: int


class UserRepository:
    """In-memory store. Every endpoint is ``async def``, so all access happens on the one event
    loop thread and needs no lock (a ``def`` endpoint would run in a thread pool and would)."""

    def __init__(self) -> None:
        self._rows: dict[int, User] = {}
        self._next_id = 1

    def add(self, data: UserIn) -> User:
        if any(u.email == data.email for u in self._rows.values()):
            raise HTTPException(status.HTTP_409_CONFLICT, f"email {data.email} is taken")
        user = User(id=self._next_id, **data.model_dump())
        self._rows[user.id] = user
        self._next_id += 1
        return user

    def get(self, user_id: int) -> User:
        user = self._rows.get(user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")
        return user

    def list(self, email: str | None) -> list[User]:
        return [u for u in self._rows.values() if email is None or u.email == email]

    def delete(self, user_id: int) -> None:
        if self._rows.pop(user_id, None) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")


async def get_repo(request: Request) -> UserRepository:
    return request.app.state.repo


Repo = Annotated[UserRepository, Depends(get_repo)]
Paging = Annotated[PageParams, Depends(page_params)]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(instance="users-1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = UserRepository()
        if settings.seed:
            for name in ("Ada", "Grace", "Linus"):
                repo.add(UserIn(name=name, email=f"{name.lower()}@example.com"))
        app.state.repo = repo
        yield

    app = FastAPI(title="users", lifespan=lifespan, responses={404: {"model": ServiceError}})
    install_common(app, settings)

    @app.get("/users", response_model=Page[User])
    async def list_users(
        repo: Repo,
        page: Paging,
        email: Annotated[str | None, Query(max_length=254)] = None,
    ) -> Page[User]:
        return paginate(repo.list(email), page)

    @app.post(
        "/users",
        status_code=status.HTTP_201_CREATED,
        responses={409: {"model": ServiceError}},
    )
    async def create_user(data: UserIn, repo: Repo, request: Request, response: Response) -> User:
        user = repo.add(data)
        # 201 says "created"; Location says where, so the client need not guess the URL scheme.
        response.headers["Location"] = request.url_for("get_user", user_id=user.id).path
        return user

    @app.get("/users/{user_id}")
    async def get_user(user_id: int, repo: Repo) -> User:
        return repo.get(user_id)

    @app.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_user(user_id: int, repo: Repo) -> None:
        repo.delete(user_id)

    return app

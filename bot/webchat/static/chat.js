// The web chat page: send what is typed or pressed, show the replies, poll for pushed messages.
(function () {
  "use strict";
  var API = "/api/webchat";
  var USER_RE = /^[A-Za-z0-9:_.@-]{1,64}$/;
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), userBox = $("user"), textBox = $("text"), statusLine = $("status");
  var state = { user: "", token: "", demo: false, poll: 1.5, cursor: "0", generation: 0, queue: Promise.resolve() };
  // Demo mode: the people the page can be, and per person not shown now the cursor of what was seen.
  var others = { seen: {}, unread: {} };

  function setStatus(text) { statusLine.textContent = text || ""; }

  function headers(json) {
    var h = { "Accept": "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (!state.demo && state.token) h["Authorization"] = "Bearer " + state.token;
    return h;
  }

  function errorText(body, status) {
    return (body && body.message) ? body.message : "请求失败（" + status + "），请稍后再试。";
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMine(text) {
    var div = document.createElement("div");
    div.className = "msg me";
    div.textContent = text;
    log.appendChild(div);
    scrollDown();
  }

  function addBot(message, pushed) {
    var div = document.createElement("div");
    div.className = pushed ? "msg bot pushed" : "msg bot";
    if (pushed) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "🔔 通知";
      div.appendChild(tag);
    }
    div.appendChild(document.createTextNode(message.text || ""));
    if (message.image_url && /^(\/|https?:)/.test(message.image_url)) {
      var img = document.createElement("img");
      img.src = message.image_url;
      img.alt = "图片";
      div.appendChild(img);
    }
    var buttons = message.buttons || [];
    if (buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send({ payload: b.payload }, b.title); });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    log.appendChild(div);
    scrollDown();
  }

  // Messages go out one after another, so replies keep their order.
  function send(fields, shown) {
    if (!state.user) return;
    addMine(shown);
    var body = { user: state.user };
    Object.keys(fields).forEach(function (k) { body[k] = fields[k]; });
    // One id per message: resending it after a lost answer is handled once by the server.
    body.message_id = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    var generation = state.generation;
    function post() {
      return fetch(API + "/messages", { method: "POST", headers: headers(true), body: JSON.stringify(body),
                                        credentials: "same-origin" });
    }
    state.queue = state.queue.then(function () {
      return post()
        .catch(function () { return new Promise(function (ok) { setTimeout(ok, 1500); }).then(post); })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
        .then(function (res) {
          if (generation !== state.generation) return;
          if (!res.ok) { setStatus(errorText(res.body, res.status)); return; }
          setStatus("");
          res.body.replies.forEach(function (m) { addBot(m, false); });
        })
        .catch(function () { setStatus("网络连接失败，请稍后再试。"); });
    });
  }

  function poll() {
    var generation = state.generation;
    if (!state.user) { setTimeout(poll, state.poll * 1000); return; }
    var url = API + "/messages?user=" + encodeURIComponent(state.user) + "&after=" + encodeURIComponent(state.cursor);
    fetch(url, { headers: headers(false), credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .then(function (res) {
        if (generation !== state.generation) return;
        if (!res.ok) { setStatus(errorText(res.body, res.status)); return; }
        res.body.messages.forEach(function (m) { addBot(m, true); });
        state.cursor = res.body.cursor;
        if (res.body.messages.length) { poll(); return "again"; }
      })
      .catch(function () { /* offline for a moment: the next round retries */ })
      .then(function (again) { if (again !== "again") setTimeout(poll, state.poll * 1000); });
  }

  function freshVisitor() {
    var bytes = new Uint8Array(6);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "u-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function markPicks() {
    document.querySelectorAll("#picks button").forEach(function (b) {
      var user = b.getAttribute("data-user");
      var visitor = b.hasAttribute("data-visitor");
      b.classList.toggle("current", visitor ? state.user.indexOf("u-") === 0 : user === state.user);
      var count = (!visitor && user !== state.user && others.unread[user]) || 0;
      var badge = b.querySelector(".badge");
      badge.textContent = count ? String(count) : "";
      badge.hidden = !count;
    });
  }

  function useUser(user) {
    if (state.user && state.user !== user) others.seen[state.user] = state.cursor;
    state.user = user;
    state.cursor = "0";
    state.generation += 1;
    others.unread[user] = 0;
    log.textContent = "";
    userBox.value = user;
    markPicks();
    if (state.demo) { try { localStorage.setItem("guanjia.webchat.user", user); } catch (e) { /* private mode */ } }
    setStatus("");
    textBox.focus();
  }

  function showPeople(people) {
    var box = $("picks");
    people.forEach(function (p) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "pick " + p.kind;
      btn.title = p.label_en;
      if (p.user) btn.setAttribute("data-user", p.user); else btn.setAttribute("data-visitor", "");
      btn.appendChild(document.createTextNode(p.label));
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.hidden = true;
      btn.appendChild(badge);
      btn.addEventListener("click", function () { useUser(p.user || freshVisitor()); });
      box.appendChild(btn);
    });
    box.hidden = false;
  }

  // Demo mode: count what is pushed to the people not shown, so a task card arriving for staff shows.
  function watchOthers() {
    var users = [];
    document.querySelectorAll("#picks button[data-user]").forEach(function (b) {
      var user = b.getAttribute("data-user");
      if (user !== state.user) users.push(user);
    });
    Promise.all(users.map(function (user) {
      var url = API + "/messages?user=" + encodeURIComponent(user) + "&after=" + encodeURIComponent(others.seen[user] || "0");
      return fetch(url, { headers: headers(false), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || user === state.user) return;
          others.unread[user] = (others.unread[user] || 0) + body.messages.length;
          others.seen[user] = body.cursor;
        })
        .catch(function () { /* offline for a moment */ });
    })).then(function () { markPicks(); setTimeout(watchOthers, state.poll * 1000); });
  }

  $("composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = textBox.value.trim();
    if (!text) return;
    textBox.value = "";
    send({ text: text }, text);
  });

  $("who").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var user = userBox.value.trim();
    if (!USER_RE.test(user)) { setStatus("用户 ID 须为 1–64 位字母、数字或 : _ . @ -"); return; }
    useUser(user);
  });

  fetch(API + "/session", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (s) {
      state.token = s.token;
      state.demo = !!s.demo;
      state.poll = s.poll_seconds || 1.5;
      var user = s.user;
      if (state.demo) {
        userBox.readOnly = false;
        $("switch").hidden = false;
        showPeople(s.people || []);
        var saved = null;
        try { saved = localStorage.getItem("guanjia.webchat.user"); } catch (e) { /* private mode */ }
        var first = (s.people || []).filter(function (p) { return p.user; })[0];
        user = (saved && USER_RE.test(saved)) ? saved : (first ? first.user : freshVisitor());
      }
      useUser(user);
      poll();
      if (state.demo) watchOthers();
    })
    .catch(function () { setStatus("无法连接服务器，请刷新页面重试。"); });
})();

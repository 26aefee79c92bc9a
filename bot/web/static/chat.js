// The demo chat client: plain DOM, no framework. Cards are built with textContent, never
// innerHTML, so nothing a user typed can become markup.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var me = params.get("as") || "alice";
  var current = null;
  var all = [];
  var directory = null;
  var socket = null;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone });
  }
  function day(iso) {
    return new Date(iso).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: zone });
  }
  function keyOf(m) {
    if (m.receiverType === "group") return "group:" + m.receiver;
    return "user:" + (m.sender === me ? m.receiver : m.sender);
  }
  function nameOf(uid) {
    if (!directory) return uid;
    if (uid === directory.bot) return "Calendar Bot";
    return directory.users[uid] || uid;
  }

  function availabilityCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card availability" });
    box.appendChild(el("h3", {}, c.sharer.name + " shared their free time"));
    var byDay = {};
    c.slots.forEach(function (s) { (byDay[day(s.start)] = byDay[day(s.start)] || []).push({ slot: s }); });
    c.busy.forEach(function (b) { (byDay[day(b.start)] = byDay[day(b.start)] || []).push({ busy: b }); });
    var days = el("div", { class: "days" });
    Object.keys(byDay).forEach(function (label) {
      var column = el("div", { class: "day" });
      column.appendChild(el("b", {}, label));
      byDay[label].sort(function (a, b) {
        return ((a.slot || a.busy).start < (b.slot || b.busy).start) ? -1 : 1;
      }).forEach(function (item) {
        if (item.slot) {
          var link = el("a", { class: "slot", href: c.bookingUrl + "&tz=" + encodeURIComponent(zone) + "&slot=" + encodeURIComponent(item.slot.start) }, clock(item.slot.start));
          column.appendChild(link);
        } else {
          column.appendChild(el("span", { class: "busy" }, "busy " + clock(item.busy.start) + "–" + clock(item.busy.end)));
        }
      });
      days.appendChild(column);
    });
    box.appendChild(days);
    box.appendChild(el("a", { href: c.bookingUrl + "&tz=" + encodeURIComponent(zone), class: "open" }, "Open the full calendar"));
    return box;
  }

  function inviteCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card invite" });
    box.appendChild(el("h3", {}, c.event.title));
    box.appendChild(el("div", {}, day(c.event.start) + ", " + clock(c.event.start) + "–" + clock(c.event.end) + " (" + zone + ")"));
    box.appendChild(el("div", {}, c.event.organizer.name + " with " + c.event.attendee.name));
    var links = el("div", { class: "links" });
    [["google", "Google"], ["yahoo", "Yahoo"], ["outlook", "Outlook.com"], ["office365", "Office 365"]].forEach(function (pair) {
      links.appendChild(el("a", { href: c.links[pair[0]], target: "_blank", rel: "noopener", class: pair[0] }, pair[1]));
    });
    links.appendChild(el("a", { href: c.icsUrl, class: "ics", download: "invite.ics" }, "Apple Calendar (.ics)"));
    box.appendChild(links);
    return box;
  }

  function pollCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card poll" });
    box.appendChild(el("div", { class: "text" }, m.data.text || ""));
    c.slots.forEach(function (slot, index) {
      var row = el("div", { class: "vote" });
      row.appendChild(el("b", {}, (index + 1) + ") " + day(slot.start) + " " + clock(slot.start) + " "));
      [["yes", "Yes"], ["maybe", "If need be"], ["no", "No"]].forEach(function (pair) {
        var button = el("button", { type: "button", class: "vote-" + pair[0], "data-option": String(index + 1) }, pair[1]);
        button.addEventListener("click", function () {
          socket.emit("send", { receiver: m.receiver, receiverType: "group", text: "/vote " + (index + 1) + " " + pair[0] });
        });
        row.appendChild(button);
      });
      box.appendChild(row);
    });
    return box;
  }

  function render(m) {
    var box = el("div", { class: "msg" + (m.sender === me ? " mine" : ""), "data-id": m.id });
    box.appendChild(el("div", { class: "who" }, nameOf(m.sender)));
    if (m.type === "extension_calendar_availability" && m.data.customData) box.appendChild(availabilityCard(m));
    else if (m.type === "extension_calendar_invite" && m.data.customData) box.appendChild(inviteCard(m));
    else if (m.type === "extension_calendar_poll" && m.data.customData) box.appendChild(pollCard(m));
    else box.appendChild(el("div", { class: "text" }, m.data.text || ""));
    return box;
  }

  function show() {
    var list = document.getElementById("messages");
    list.replaceChildren();
    all.filter(function (m) { return keyOf(m) === current; }).forEach(function (m) { list.appendChild(render(m)); });
    list.scrollTop = list.scrollHeight;
    document.querySelectorAll("nav button").forEach(function (b) {
      b.setAttribute("aria-current", b.dataset.key === current ? "true" : "false");
    });
  }

  function conversations() {
    var nav = document.getElementById("conversations");
    nav.replaceChildren();
    var items = [["user:" + directory.bot, "Calendar Bot"]];
    Object.keys(directory.users).forEach(function (uid) { if (uid !== me) items.push(["user:" + uid, directory.users[uid]]); });
    Object.keys(directory.groups).forEach(function (guid) {
      if (directory.groups[guid].members.indexOf(me) >= 0) items.push(["group:" + guid, directory.groups[guid].name + " (group)"]);
    });
    items.forEach(function (item) {
      var button = el("button", { type: "button", "data-key": item[0] }, item[1]);
      button.addEventListener("click", function () { current = item[0]; show(); document.getElementById("text").focus(); });
      nav.appendChild(button);
    });
    if (!current) current = params.get("with") || items[0][0];
  }

  function start() {
    socket = io({ auth: { uid: me }, transports: ["websocket"] });
    socket.on("connect", function () {
      document.getElementById("status").textContent = "connected as " + me + " (" + zone + ")";
      socket.emit("directory", function (d) {
        directory = d;
        var picker = document.getElementById("me");
        picker.replaceChildren();
        Object.keys(d.users).forEach(function (uid) {
          var option = el("option", { value: uid }, d.users[uid]);
          if (uid === me) option.selected = true;
          picker.appendChild(option);
        });
        conversations();
        socket.emit("history", function (messages) { all = messages; show(); });
      });
    });
    socket.on("connect_error", function (e) { document.getElementById("status").textContent = "cannot connect: " + e.message; });
    socket.on("message", function (m) { all.push(m); if (keyOf(m) === current) show(); });
  }

  document.getElementById("me").addEventListener("change", function (event) {
    location.search = "?as=" + encodeURIComponent(event.target.value);
  });
  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("text");
    var text = input.value.trim();
    if (!text || !current) return;
    var parts = current.split(":");
    socket.emit("send", { receiver: parts[1], receiverType: parts[0], text: text }, function (answer) {
      if (answer && answer.error) document.getElementById("status").textContent = answer.error;
    });
    input.value = "";
  });
  start();
})();

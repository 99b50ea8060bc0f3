// Optional: fill the location form from the device, only when the shopper presses the button.
(function () {
  var form = document.querySelector("form[data-geolocate]");
  if (!form || !navigator.geolocation) return;
  var button = form.querySelector(".rv-geo");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude.toFixed(2);
      form.elements.longitude.value = position.coords.longitude.toFixed(2);
      form.submit();
    }, function () { button.disabled = true; }, { maximumAge: 600000, timeout: 10000 });
  });
})();

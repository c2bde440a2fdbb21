package io.metalgate.integration;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttClientPersistence;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;

/**
 * A Paho client whose message callback exists before it connects. Camel's Paho consumer (4.17) connects its
 * client first and sets its callback after; with a persistent session the broker resends the messages left
 * unacknowledged by the previous run (a crash) right after CONNACK, and Paho hands them to no one. With
 * manual acknowledgments they are then never acknowledged, so the broker does not send them again until the
 * next reconnect: lease events lost, found by the crash test. Here a gate holds them (Paho's callback thread
 * waits, preserving their order) until Camel's consumer sets its callback, then passes them on.
 */
final class GatedMqttClient extends MqttClient {

    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile MqttCallback target;

    GatedMqttClient(String serverUri, String clientId, MqttClientPersistence persistence) throws MqttException {
        super(serverUri, clientId, persistence);
        super.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                MqttCallback t = target;
                if (t != null) {
                    t.connectionLost(cause);
                }
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) throws Exception {
                if (!ready.await(5, TimeUnit.MINUTES)) {
                    // not acknowledged, and the connection is dropped by Paho: the broker sends it again
                    throw new IllegalStateException("no consumer took the MQTT message within 5 minutes");
                }
                target.messageArrived(topic, message);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
                MqttCallback t = target;
                if (t != null) {
                    t.deliveryComplete(token);
                }
            }
        });
    }

    /** Camel's consumer's callback: messages held at the gate go to it now, in order. */
    @Override
    public void setCallback(MqttCallback callback) {
        target = callback;
        if (callback != null) {
            ready.countDown();
        }
    }
}
